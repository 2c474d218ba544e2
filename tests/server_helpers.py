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

# What analyze would conclude (migration 0008), written directly so these tests do not depend
# on the analysis: network N-1 spans DEA's INV-1 and INV-3 and CPD's INV-2; N-2 is DEA's alone.
TIES = [
    ("E-P1", "E-P2", "supply", 1, "R-1", "A1", "2022-05-01", None),
    ("E-O1", "E-P1", "membership", 1, "R-2", "A1", None, None),
    ("E-O2", "E-P1", "membership", 1, "R-3", "B2", None, None),
    # No event with a visible source stands behind it: nobody is shown this tie.
    ("E-P2", "E-P4", "communication", 3, "", "A1", "2022-07-01", "2022-07-09"),
]
NETWORKS = {
    "N-1": {"E-P1": "0", "E-P2": "0", "E-O1": "0", "E-O2": "1", "E-P4": "1"},
    "N-2": {"E-P4": "0"},
}
KEY_PLAYERS = [
    ("N-1", "E-O2", 1, 0.9, "removing E-O2 (Eastside Crew) leaves 3 components of 5 people"),
    ("N-1", "E-P1", 2, 0.5, "removing E-P1 leaves 2 components of 5 people"),
    ("N-1", "E-P2", 3, 0.1, "4 ties"),
    ("N-2", "E-P4", 1, 0.0, "alone"),
]
ATTRIBUTIONS = [
    (
        "N-1",
        "Sinaloa",
        0.8,
        "CJNG",
        False,
        "E-P2 [supply R-1 A1] E-P1 [membership R-3 B2] E-O2 "
        "(organization record O-2 'Eastside Crew' is the cartel)",
    ),
    ("N-2", "Unattributed", 0.0, None, None, ""),
]

# What resolution would leave for review (migrations 0016, 0017: every pair of records): S-2
# and S-4 are both DEA's. E-P1 and E-P2 have two pairs: the best, S-3 (CPD's) and S-2 (DEA's),
# is nobody's to see until CPD shares INV-2; the other, S-1 and S-2, is DEA's.
POSSIBLE_MATCHES = [
    ("E-P2", "E-P4", "S-2", "S-4", 1.1, 0.42, 1, "below the threshold (0.5)", "name: close"),
    ("E-P1", "E-P2", "S-3", "S-2", 5.0, 0.9, 2, "kept apart by a rule: x", "sel_keys: shared"),
    ("E-P1", "E-P2", "S-1", "S-2", 2.0, 0.6, 2, "kept apart by a rule: x", "dob: exact"),
]

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
    add_networks(ws)
    for row in POSSIBLE_MATCHES:
        ws.store.execute("INSERT INTO possible_matches VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    for name, (agency, role) in USERS.items():
        auth.add_user(ws, name, agency, role, PASSWORD)
    return {"admin_totp": auth.enrol_totp(ws, "dea.admin")}


def add_networks(ws: Workspace) -> None:
    for tie in TIES:
        ws.store.execute("INSERT INTO ties VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tie)
    for network_id, members in NETWORKS.items():
        ws.store.execute(
            "INSERT INTO networks VALUES (?, false, ?, ?, 3, 'CPD|DEA', '', '', '', true, 0, 0, 2)",
            (network_id, len(members), 0),
        )
        for entity_id, community in members.items():
            ws.store.execute(
                "INSERT INTO network_members VALUES (?, ?, false, ?)",
                (network_id, entity_id, community),
            )
    for row in KEY_PLAYERS:
        ws.store.execute("INSERT INTO key_players VALUES (?, ?, ?, ?, ?)", row)
    for row in ATTRIBUTIONS:
        ws.store.execute("INSERT INTO attributions VALUES (?, ?, ?, ?, ?, ?)", row)
