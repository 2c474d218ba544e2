"""The ground truth written next to the records, in ``truth/`` (see docs/synth.md).

Selectors in the truth are normalized: E.164 for phones, a lower-case handle without "@" for
accounts, a lower-case address for email.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

import igraph as ig
import numpy as np

from lastmile.synth import names as nm
from lastmile.synth.cases import Investigation
from lastmile.synth.outcomes import Outcomes
from lastmile.synth.records import Records, account_id, email_id, line_id, org_id, person_id
from lastmile.synth.world import EPOCH, FOREVER, World
from lastmile.synth.writer import Writer

KEY_PLAYERS_PER_NETWORK = 5
# Ties that are part of the trade (the rest are family, partners, lawyers, work, business).
CRIMINAL_TIES = ("supply", "communication", "association", "co_arrest")
TIE_KINDS = (
    "communication",
    "supply",
    "membership",
    "association",
    "family",
    "co_arrest",
    "partner",
    "lawyer",
    "workplace",
    "business",
)


def network_id(i: int) -> str:
    return f"NET-{i:04d}"


def _day(d: int) -> str:
    return "" if d <= 0 or d >= FOREVER else (EPOCH + timedelta(days=d)).isoformat()


def write(
    writer: Writer,
    w: World,
    rec: Records,
    invs: list[Investigation],
    outs: Outcomes,
    observed_pairs: np.ndarray,
) -> None:
    _records(writer, rec)
    _entities(writer, w, rec)
    ties = _ties(w, rec, outs, observed_pairs)
    writer.rows("truth/ties.csv", ("entity_a", "entity_b", "kind", "observed"), ties)
    _key_players(writer, w, rec, outs)
    _networks(writer, w)
    _selector_owners(writer, w)
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
    _overlaps(writer, rec, invs)
    writer.rows(
        "truth/joint_records.csv",
        ("record_id", "same_as"),
        [{"record_id": r, "same_as": s} for r, s in outs.joint],
    )


# -- records.csv ------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z]+")


def _tokens(*texts: str) -> set[str]:
    out: set[str] = set()
    for t in texts:
        out.update(x for x in _WORD.findall(nm.strip_accents(t).lower()) if len(x) > 1)
    return out - {"el", "la", "jr", "sr", "apt", "unit"}


def _evidence(row: dict[str, str], selectors: list[str]) -> tuple[set[str], set[str], str]:
    names = _tokens(row.get("full_name", ""), row.get("given_name", ""), row.get("family_name", ""))
    other = {f"m:{m}" for m in _tokens(row.get("monikers", ""))}
    for a in (row.get("addresses") or "").split("|"):
        words = _tokens(a)
        number = re.match(r"\s*(\d+)", a)
        if number and words:
            other.add(f"a:{number.group(1)}:{sorted(words)[0]}")
    for i in (row.get("identifiers") or "").split("|"):
        if i:
            other.add(f"i:{i.lower()}")
    other.update(f"s:{s}" for s in selectors)
    return names, other, row.get("dob") or ""


def _discoverable(rec: Records) -> dict[str, bool]:
    """A subject record is discoverable when it shares some evidence with another record of
    the same person: two name words, a name word and the date of birth, a moniker, an
    address, an identifier or a selector. A person with one record has nothing to find."""
    entity = dict(rec.truth)
    groups: dict[str, list[str]] = {}
    rows = {r["subject_id"]: r for r in rec.subjects}
    for sid in rows:
        groups.setdefault(entity[sid], []).append(sid)
    out: dict[str, bool] = {}
    for sids in groups.values():
        ev = {s: _evidence(rows[s], rec.selectors_of.get(s, [])) for s in sids}
        for s in sids:
            n1, o1, d1 = ev[s]
            out[s] = len(sids) == 1 or any(
                len(n1 & n2) >= 2 or (n1 & n2 and d1 and d1 == d2) or (o1 & o2)
                for t in sids
                if t != s
                for n2, o2, d2 in (ev[t],)
            )
    return out


def _records(writer: Writer, rec: Records) -> None:
    found = _discoverable(rec)
    writer.rows(
        "truth/records.csv",
        ("record_id", "entity_id", "record_type", "discoverable"),
        [
            {
                "record_id": r,
                "entity_id": e,
                "record_type": rec.record_type[r],
                "discoverable": "true" if found.get(r, True) else "false",
            }
            for r, e in rec.truth
        ],
    )


# -- entities.csv ---------------------------------------------------------------------------


def _entities(writer: Writer, w: World, rec: Records) -> None:
    ents: list[dict[str, str]] = []
    for p in w.persons:
        ents.append(
            {
                "entity_id": person_id(p.idx),
                "kind": "person",
                "network_id": "" if p.civilian else network_id(p.network),
                "cartel": p.cartel,
                "role": "" if p.civilian else p.role.value,
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
                "network_id": "" if p.civilian else network_id(p.network),
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


# -- ties.csv ---------------------------------------------------------------------------------


def _ties(
    w: World, rec: Records, outs: Outcomes, observed_pairs: np.ndarray
) -> list[dict[str, str]]:
    n = len(w.persons)
    talked = set((observed_pairs[:, 0] * n + observed_pairs[:, 1]).tolist())
    seen: dict[tuple[int, int, str], bool] = {}
    for a, b, kind, hidden in w.tie_list:
        shown = (a, b, kind) in rec.stated or (not hidden and a * n + b in talked)
        key = (a, b, kind)
        seen[key] = seen.get(key, False) or shown
    for a, b in sorted(outs.co_arrests):
        seen[(min(a, b), max(a, b), "co_arrest")] = True
    rows = [
        {
            "entity_a": person_id(a),
            "entity_b": person_id(b),
            "kind": kind,
            "observed": "true" if obs else "false",
        }
        for (a, b, kind), obs in sorted(seen.items())
    ]
    for p in w.persons:
        if p.civilian or p.network < 0:
            continue
        orgs = [w.networks[p.network].org, p.crew]
        for o in dict.fromkeys(x for x in orgs if x >= 0):
            rows.append(
                {
                    "entity_a": person_id(p.idx),
                    "entity_b": org_id(o),
                    "kind": "membership",
                    "observed": "true" if (p.idx, o) in rec.member_stated else "false",
                }
            )
    return rows


def criminal_edges(w: World, outs: Outcomes) -> dict[int, list[tuple[int, int]]]:
    """The true criminal ties inside each network (both people in it), by network."""
    by: dict[int, list[tuple[int, int]]] = {}
    pairs = [(a, b) for a, b, kind, _hidden in w.tie_list if kind in CRIMINAL_TIES]
    for a, b in [*pairs, *sorted(outs.co_arrests)]:
        pa, pb = w.persons[a], w.persons[b]
        if pa.network == pb.network and not pa.civilian and not pb.civilian:
            by.setdefault(pa.network, []).append((a, b))
    return by


def criminal_graph(
    members: list[int], edges: list[tuple[int, int]]
) -> tuple[ig.Graph, dict[int, int]]:
    """A network's true criminal ties among its members, as an undirected simple graph."""
    index = {m: i for i, m in enumerate(members)}
    pairs = sorted({(index[a], index[b]) for a, b in edges if a in index and b in index})
    g = ig.Graph(n=len(members), edges=pairs)
    g.simplify()
    return g, index


def _lcc(g: ig.Graph) -> int:
    return max(g.connected_components().sizes()) if g.vcount() else 0


def _efficiency(g: ig.Graph) -> float:
    if g.vcount() < 2:
        return 0.0
    return float(np.mean(g.harmonic_centrality(normalized=True)))


def _key_players(writer: Writer, w: World, rec: Records, outs: Outcomes) -> None:
    """Per network, the five people (of those in some record) whose removal shrinks the
    largest component of its true criminal ties most; ties broken by the fall in global
    efficiency, then by entity id."""
    keys: list[dict[str, str]] = []
    edges = criminal_edges(w, outs)
    for net in w.networks:
        members = sorted(net.members)
        g, index = criminal_graph(members, edges.get(net.idx, []))
        base = _lcc(g)
        cand = [m for m in members if m in rec.n_records]
        if not cand:
            continue
        score = {}
        for m in cand:
            h = g.copy()
            h.delete_vertices([index[m]])
            score[m] = base - _lcc(h)
        ranked = sorted(cand, key=lambda m: (-score[m], m))
        cut = score[ranked[min(KEY_PLAYERS_PER_NETWORK, len(ranked)) - 1]]
        tied = [m for m in ranked if score[m] >= cut]
        if len(tied) > KEY_PLAYERS_PER_NETWORK:
            # Only the tie at the cut needs efficiency; keep the busiest 40 of it.
            tied = sorted(tied, key=lambda m: (-g.degree(index[m]), m))[:40]
            eff0 = _efficiency(g)
            fall = {}
            for m in tied:
                h = g.copy()
                h.delete_vertices([index[m]])
                fall[m] = eff0 - _efficiency(h)
            ranked = sorted(tied, key=lambda m: (-score[m], -round(fall[m], 12), m))
        for rank, m in enumerate(ranked[:KEY_PLAYERS_PER_NETWORK], start=1):
            keys.append(
                {
                    "network_id": network_id(net.idx),
                    "entity_id": person_id(m),
                    "rank": str(rank),
                    "score": str(score[m]),
                }
            )
    writer.rows("truth/key_players.csv", ("network_id", "entity_id", "rank", "score"), keys)


# -- networks.csv, selector_owners.csv, overlaps.csv -------------------------------------------


def _networks(writer: Writer, w: World) -> None:
    rows = []
    for net in w.networks:
        cities = sorted({w.persons[m].city for m in net.members})
        rows.append(
            {
                "network_id": network_id(net.idx),
                "cartel": net.cartel,
                "size": str(len(net.members)),
                "cities": "|".join(cities),
                "multi_city": "true" if len(cities) > 1 else "false",
            }
        )
    writer.rows(
        "truth/networks.csv", ("network_id", "cartel", "size", "cities", "multi_city"), rows
    )


def _selector_owners(writer: Writer, w: World) -> None:
    rows: list[dict[str, str]] = []
    people = len(w.persons)
    for ln, owner in enumerate(w.line_owner):
        if owner >= people:
            continue  # customers are not entities
        end = w.line_end[ln]
        passed = w.line_passed.get(ln)
        users = [(owner, w.line_start[ln], end)]
        users += [(u, w.line_start[ln], end) for u in w.line_shared_with.get(ln, [])]
        if passed is not None:
            users.append((passed[0], passed[1], FOREVER))
        for u, start, stop in users:
            rows.append(
                {
                    "selector_entity_id": line_id(ln),
                    "person_entity_id": person_id(u),
                    "from": _day(start),
                    "to": _day(stop),
                }
            )
    for k, acc in enumerate(w.accounts):
        if acc.owner < people:
            rows.append(
                {"selector_entity_id": account_id(k), "person_entity_id": person_id(acc.owner)}
            )
    for k, (owner, _address) in enumerate(w.emails):
        rows.append({"selector_entity_id": email_id(k), "person_entity_id": person_id(owner)})
    writer.rows(
        "truth/selector_owners.csv",
        ("selector_entity_id", "person_entity_id", "from", "to"),
        rows,
    )


def _overlaps(writer: Writer, rec: Records, invs: list[Investigation]) -> None:
    """One row per person and pair of investigations that both hold records of them."""
    holders: dict[int, list[int]] = {}
    for inv in invs:
        for person in rec.subjects_of.get(inv.idx, {}):
            holders.setdefault(person, []).append(inv.idx)
    rows = []
    for person in sorted(holders):
        for i, j in itertools.combinations(holders[person], 2):
            a, b = invs[i], invs[j]
            first: date = max(a.opened, b.opened)
            shared = rec.held.get((i, person), set()) & rec.held.get((j, person), set())
            rows.append(
                {
                    "entity_id": person_id(person),
                    "investigation_a": a.inv_id,
                    "investigation_b": b.inv_id,
                    "agency_a": a.agency_id,
                    "agency_b": b.agency_id,
                    "first_date": first.isoformat(),
                    "shared_selectors": "|".join(sorted(shared)),
                }
            )
    writer.rows(
        "truth/overlaps.csv",
        (
            "entity_id",
            "investigation_a",
            "investigation_b",
            "agency_a",
            "agency_b",
            "first_date",
            "shared_selectors",
        ),
        rows,
    )
