"""A small multi-agency workspace for the server's tests: the small operation (DEA, CPD and
CSP investigations), entities as the resolver would write them, and one account per role."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from argon2 import PasswordHasher, profiles

from lastmile.ingest import ingest_paths
from lastmile.server import auth
from lastmile.store import Workspace

from .conftest import SMALL_OPERATION

PASSWORD = "correct horse battery staple"

# The tests' accounts are hashed with argon2's cheap profile: the production cost (about 0.1 s
# a hash, by design) would be most of the suite's time. Verification reads the parameters
# from each hash, so the server's code paths are the same.
auth._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)

# entity -> member records: S-1 (DEA, INV-1) and S-3 (CPD, INV-2) are one person.
ENTITIES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "E-P1": ("person", [("subjects", "S-1"), ("subjects", "S-3")]),
    "E-P2": ("person", [("subjects", "S-2")]),
    "E-P4": ("person", [("subjects", "S-4")]),
    "E-O1": ("organization", [("organizations", "O-1")]),
    "E-O2": ("organization", [("organizations", "O-2")]),
    "E-S1": ("selector", [("selectors", "P-1")]),
    "E-S2": ("selector", [("selectors", "P-2")]),
    "E-S3": ("selector", [("selectors", "P-3")]),
    "E-S4": ("selector", [("selectors", "P-4")]),
}

USERS = {
    "dea.analyst": ("DEA", "analyst"),
    "dea.super": ("DEA", "supervisor"),
    "cpd.analyst": ("CPD", "analyst"),
    "cpd.super": ("CPD", "supervisor"),
    "csp.analyst": ("CSP", "analyst"),
    "dea.auditor": ("DEA", "auditor"),
    "dea.admin": ("DEA", "admin"),
}


def build(ws: Workspace, tmp: Path) -> dict[str, Any]:
    """Fill ``ws``; returns the admin's TOTP URI."""
    ingest_paths(ws, [SMALL_OPERATION], rejects=tmp / "rejects.csv")
    for entity_id, (kind, members) in ENTITIES.items():
        ws.store.execute(
            "INSERT INTO entities VALUES (?, ?, ?, '', '', NULL, NULL)",
            (entity_id, kind, entity_id),
        )
        for rtype, rid in members:
            ws.store.execute(
                "INSERT INTO entity_members VALUES (?, ?, ?, 1.0)", (rtype, rid, entity_id)
            )
    for name, (agency, role) in USERS.items():
        auth.add_user(ws, name, agency, role, PASSWORD)
    return {"admin_totp": auth.enrol_totp(ws, "dea.admin")}
