"""Entity resolution: records in, entities out (docs/resolution.md).

- ``features``: the records and what the matcher compares, built in DuckDB;
- ``names``, ``addresses``: parsing and folding (nameparser, nicknames, usaddress);
- ``persons``: the Splink model, its training and predictions;
- ``anchor``: nameless records joined to the one person their selector points to;
- ``collective``: the second pass, comparing first-pass entities with the same model;
- ``cluster``: connected components (with cannot-link constraints) and stable entity ids;
- ``run``: ``resolve()``, which writes entities and memberships;
- ``judge``, ``explain``, ``conflicts``: analysts' verdicts, explanations, deconfliction.
"""

from lastmile.resolve.errors import ResolveError

__all__ = ["ResolveError"]
