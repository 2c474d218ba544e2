"""The synthetic national operation and its ground truth (docs/synth.md).

``generate(scale, seed, out_dir)`` writes every interchange file and ``truth/``; the same
arguments always give byte-identical output.
"""

from lastmile.synth.calibration import DEFAULT_SEED
from lastmile.synth.generate import (
    DEFAULT_COMMUNICATIONS,
    Scale,
    SynthError,
    SynthSummary,
    generate,
)

__all__ = [
    "DEFAULT_COMMUNICATIONS",
    "DEFAULT_SEED",
    "Scale",
    "SynthError",
    "SynthSummary",
    "generate",
]
