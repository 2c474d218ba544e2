"""lastmile: multi-agency drug-investigation analysis."""

__version__ = "0.1.0"
