"""The docs say what the code does."""

from __future__ import annotations

from pathlib import Path

from lastmile.ingest.formatdoc import generated
from lastmile.model import ENCRYPTED_DEFAULT, SOCIAL_MEDIA_DEFAULT
from lastmile.units import DoseMethod

DOCS = Path(__file__).parent.parent / "docs"


def test_format_reference_is_generated_from_the_model() -> None:
    text = (DOCS / "format.md").read_text(encoding="utf-8")
    assert generated() in text, "run: python -m lastmile.ingest.formatdoc (docs/format.md)"


def test_methodology_states_the_code_defaults() -> None:
    text = (DOCS / "methodology.md").read_text(encoding="utf-8")
    method = DoseMethod()
    assert f"| `lethal_dose_mg` | {method.lethal_dose_mg} |" in text
    assert f"| `pill_lethal_share` | {method.pill_lethal_share} |" in text
    assert f"| `powder_purity` | {method.powder_purity} |" in text
    for platform in SOCIAL_MEDIA_DEFAULT | ENCRYPTED_DEFAULT:
        assert platform.value in text
