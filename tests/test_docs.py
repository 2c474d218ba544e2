"""The docs say what the code does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

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


def _commands(group: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf command's path (typer's click groups have ``commands``)."""
    found = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found += _commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


def test_every_options_help_is_shown_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich reads "[default: x]" in a help text as markup and drops it; no help may lose words."""
    from lastmile.cli import app

    monkeypatch.setenv("COLUMNS", "400")
    root = typer.main.get_command(app)
    checked = 0
    for path in _commands(root):
        command: Any = root
        for name in path:
            command = command.commands[name]
        output = CliRunner().invoke(app, [*path, "--help"]).output
        shown = " ".join(output.translate({ord(c): " " for c in "│╭╮╰╯─"}).split())
        texts = [p.help for p in command.params if getattr(p, "help", None)]
        texts.append((command.help or "").split("\n")[0])
        for text in texts:
            # "\\[" is rich's escape of a bracket the help means literally.
            assert " ".join(text.replace("\\[", "[").split()) in shown, (path, text)
            checked += 1
    assert checked > 100
