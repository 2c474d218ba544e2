"""The ground truth written next to the records, in ``truth/`` (see docs/synth.md).

Selectors in the truth are normalized: E.164 for phones, a lower-case handle without "@" for
accounts, a lower-case address for email.
"""

from __future__ import annotations

from datetime import timedelta

from lastmile.model import Role
from lastmile.synth.records import Records, account_id, email_id, line_id, org_id, person_id
from lastmile.synth.world import EPOCH, World
from lastmile.synth.writer import Writer

# Seniority used to rank key players: who, removed, hurts the network most.
SENIORITY: dict[Role, int] = {
    Role.LEADER: 0,
    Role.SOURCE_OF_SUPPLY: 0,
    Role.PLAZA_BOSS: 1,
    Role.BROKER: 2,
    Role.DISTRIBUTOR: 3,
    Role.MONEY_LAUNDERER: 4,
    Role.COURIER: 5,
    Role.ENFORCER: 6,
    Role.DEALER: 7,
}
KEY_PLAYERS_PER_NETWORK = 5


def network_id(i: int) -> str:
    return f"NET-{i:04d}"


def write(writer: Writer, w: World, rec: Records) -> None:
    writer.rows(
        "truth/records.csv",
        ("record_id", "entity_id"),
        [{"record_id": r, "entity_id": e} for r, e in rec.truth],
    )
    ents: list[dict[str, str]] = []
    for p in w.persons:
        ents.append(
            {
                "entity_id": person_id(p.idx),
                "kind": "person",
                "network_id": network_id(p.network),
                "cartel": p.cartel,
                "role": p.role.value,
            }
        )
    for o in w.orgs:
        ents.append(
            {
                "entity_id": org_id(o.idx),
                "kind": "organization",
                "network_id": network_id(o.network),
                "cartel": o.cartel,
                "role": o.kind.value,
            }
        )

    def sel(entity: str, owner: int) -> None:
        p = w.persons[owner]
        ents.append(
            {
                "entity_id": entity,
                "kind": "selector",
                "network_id": network_id(p.network),
                "cartel": p.cartel,
                "role": "",
            }
        )

    for ln in sorted(rec.lines_seen):
        sel(line_id(ln), w.line_owner[ln])
    for a in sorted(rec.accounts_seen):
        sel(account_id(a), w.accounts[a].owner)
    for e in sorted(rec.emails_seen):
        sel(email_id(e), w.emails[e][0])
    writer.rows("truth/entities.csv", ("entity_id", "kind", "network_id", "cartel", "role"), ents)

    keys: list[dict[str, str]] = []
    for net in w.networks:
        ranked = sorted(
            net.members,
            key=lambda m: (
                m != net.leader,
                SENIORITY.get(w.persons[m].role, 9),
                -len(w.ties(m)),
                m,
            ),
        )
        for rank, m in enumerate(ranked[:KEY_PLAYERS_PER_NETWORK], start=1):
            keys.append(
                {"network_id": network_id(net.idx), "entity_id": person_id(m), "rank": str(rank)}
            )
    writer.rows("truth/key_players.csv", ("network_id", "entity_id", "rank"), keys)

    writer.rows(
        "truth/handovers.csv",
        ("old_selector", "new_selector", "date"),
        [
            {
                "old_selector": w.line_number[o],
                "new_selector": w.line_number[n],
                "date": (EPOCH + timedelta(days=d)).isoformat(),
            }
            for o, n, d in w.handovers
        ],
    )
    writer.rows(
        "truth/overlaps.csv",
        ("entity_id", "agencies"),
        [
            {"entity_id": person_id(p), "agencies": "|".join(sorted(a))}
            for p, a in sorted(rec.agencies_of.items())
            if len(a) > 1
        ],
    )
