"""Everything lastmile writes for other programs to open: the rules every export follows.

- ``csvsafe``: CSV cells that a spreadsheet cannot run as formulas (docs/exports.md).
"""

from lastmile.export.csvsafe import (
    FORMULA_PREFIXES,
    csv_safe_sql,
    safe_cell,
    safe_table,
    write_csv,
)

__all__ = ["FORMULA_PREFIXES", "csv_safe_sql", "safe_cell", "safe_table", "write_csv"]
