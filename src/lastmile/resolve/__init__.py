"""Entity resolution: records in, entities out (docs/resolution.md).

- ``features``: the records and what the matcher compares, built in DuckDB;
- ``names``, ``addresses``: parsing and folding (nameparser, nicknames, usaddress);
- ``persons``: the Splink model, its training and predictions;
- ``cluster``: connected components and stable entity ids;
- ``run``: ``resolve()``, which writes entities and memberships;
- ``judge``, ``explain``, ``conflicts``: analysts' verdicts, explanations, deconfliction.
"""

from lastmile.resolve.errors import ResolveError

__all__ = ["ResolveError"]
