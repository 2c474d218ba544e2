"""The reference part of ``docs/format.md``, generated from the model so it cannot drift.

``python -m lastmile.ingest.formatdoc`` prints it; a test checks that the docs hold exactly
this text between the ``BEGIN GENERATED`` and ``END GENERATED`` markers.
"""

from __future__ import annotations

from lastmile.ingest.validate import ROW_RULES, file_columns
from lastmile.model import RECORD_TYPES, Column, ColumnType, RecordType

BEGIN = "<!-- BEGIN GENERATED: python -m lastmile.ingest.formatdoc -->"
END = "<!-- END GENERATED -->"

_TYPE_WORDS = {
    ColumnType.ID: "id",
    ColumnType.REF: "reference",
    ColumnType.TEXT: "text",
    ColumnType.LIST: "list (`|`-separated)",
    ColumnType.ENUM: "one of",
    ColumnType.DATE: "date `YYYY-MM-DD`",
    ColumnType.TIMESTAMP: "ISO 8601 time",
    ColumnType.DECIMAL: "number ≥ 0",
    ColumnType.INTEGER: "whole number ≥ 0",
    ColumnType.FRACTION: "number 0–1",
    ColumnType.SELECTOR: "selector",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _allowed(col: Column) -> str:
    if col.type is ColumnType.ENUM:
        values = ", ".join(f"`{v}`" for v in col.values)
        if col.synonyms:
            values += "; also " + ", ".join(f"`{k}`" for k in sorted(col.synonyms))
        return values
    if col.type is ColumnType.REF:
        return "an id in " + " or ".join(f"`{r}.csv`" for r in col.references.split("|"))
    return ""


def record_type_section(rt: RecordType) -> str:
    lines = [f"### `{rt.file_name}`", "", rt.doc, ""]
    if rt.id_column:
        lines.append(f"Identified by `{rt.id_column}`, unique across the workspace.")
    else:
        lines.append("Keyed by content: the same event reported twice is stored once.")
    lines += [
        "",
        "| column | type | required | allowed values | example | notes |",
        "|---|---|---|---|---|---|",
    ]
    for col in file_columns(rt):
        lines.append(
            "| "
            + " | ".join(
                [
                    f"`{col.name}`",
                    _TYPE_WORDS[col.type],
                    "yes" if col.required else "",
                    _cell(_allowed(col)),
                    _cell(f"`{col.example}`" if col.example else ""),
                    _cell(col.doc),
                ]
            )
            + " |"
        )
    rules = ROW_RULES.get(rt.name, ())
    if rules:
        lines += ["", "Rules across columns:", ""]
        lines += [f'- `{r.column}`: "{r.reason}", when `{r.bad_sql}`.' for r in rules]
    return "\n".join(lines)


def generated() -> str:
    body = "\n\n".join(record_type_section(rt) for rt in RECORD_TYPES)
    return f"{BEGIN}\n\n{body}\n\n{END}"


if __name__ == "__main__":
    print(generated())
