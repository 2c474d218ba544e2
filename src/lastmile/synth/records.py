"""What each investigation knows: its part of a network, written as interchange records.

An investigation sees a connected slice of one network (a crew, its leaders, sometimes the
supply chain up to a hub and Mexico). Its subjects, organizations, selectors and stated
relationships are rendered messily (``render.py``) and each record is mapped to the true
entity behind it, for ``truth/records.csv``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np

from lastmile.model import Platform, RelationshipKind, Role, SelectorKind
from lastmile.synth import render
from lastmile.synth.cases import Investigation
from lastmile.synth.phones import render as render_phone
from lastmile.synth.world import EPOCH, World

Row = dict[str, str]
# Platforms whose accounts are phone numbers: the selector is the phone, with the platform.
PHONE_PLATFORMS = frozenset({Platform.WHATSAPP, Platform.SIGNAL})


def person_id(i: int) -> str:
    return f"PER-{i:06d}"


def org_id(i: int) -> str:
    return f"ORG-{i:05d}"


def line_id(i: int) -> str:
    return f"PHN-{i:07d}"


def account_id(i: int) -> str:
    return f"ACC-{i:07d}"


def email_id(i: int) -> str:
    return f"EML-{i:06d}"


@dataclass
class Records:
    subjects: list[Row] = field(default_factory=list)
    organizations: list[Row] = field(default_factory=list)
    selectors: list[Row] = field(default_factory=list)
    relationships: list[Row] = field(default_factory=list)
    truth: list[tuple[str, str]] = field(default_factory=list)  # record id -> entity id
    # Subject record ids of each investigation and the person behind each (arrests pick
    # from them).
    subject_ids: dict[int, list[str]] = field(default_factory=dict)
    subject_people: dict[int, list[int]] = field(default_factory=dict)
    record_type: dict[str, str] = field(default_factory=dict)  # record id -> record type
    # Subject records by investigation and person (for overlaps): inv -> person -> ids.
    subjects_of: dict[int, dict[int, list[str]]] = field(default_factory=dict)
    # Selector records naming a subject: subject record id -> selector entity ids.
    selectors_of: dict[str, list[str]] = field(default_factory=dict)
    # Relationship records between two people: (person a, person b, kind), a < b.
    stated: set[tuple[int, int, str]] = field(default_factory=set)
    member_stated: set[tuple[int, int]] = field(default_factory=set)  # (person, org)
    # Selector entities each investigation holds for each person: (inv, person) -> ids.
    held: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    n_records: dict[int, int] = field(default_factory=dict)  # person -> subject records so far
    agencies_of: dict[int, set[str]] = field(default_factory=dict)  # person -> agencies
    # For communications: each investigation's platform users, (person, platform).
    platform_users: dict[int, list[tuple[int, Platform]]] = field(default_factory=dict)
    # Selector entities that appear in records (the truth lists only these selectors).
    lines_seen: set[int] = field(default_factory=set)
    accounts_seen: set[int] = field(default_factory=set)
    emails_seen: set[int] = field(default_factory=set)


def _view(
    rng: np.random.Generator, w: World, inv: Investigation, supplied: dict[int, list[int]]
) -> list[int]:
    net = w.networks[inv.network]
    persons = w.persons
    members = set(net.members)
    if inv.spec >= 0:
        crew = net.crews[int(rng.integers(len(net.crews)))] if net.crews else []
        # Investigators work the busiest phones of a crew first.
        busy = sorted(crew[1:], key=lambda m: -len(w.ties(m)) * rng.lognormal(0.0, 0.7))
        focus = [crew[0], *busy] if crew else []
        # Every slice of a network reaches its head: the regional distributor is the one
        # target all agencies working the network share.
        at = 0 if rng.random() < 0.4 else 1
        order = [*focus[:at], net.leader, *focus[at:]]
    else:
        order = [net.leader]
    # Then the people around them, ring by ring, inside the network; then anyone in it.
    seen = set(order)
    frontier = list(order)
    while frontier:
        ring = sorted({y for x in frontier for y in w.ties(x) if y in members and y not in seen})
        ring = [int(x) for x in rng.permutation(ring)] if ring else []
        seen.update(ring)
        order += ring
        frontier = ring
    order += [int(x) for x in rng.permutation(sorted(members - seen))]
    if inv.spec < 0:
        downstream = sorted(c for m in members for c in supplied.get(m, []))
        order += [int(x) for x in rng.permutation(downstream)]
    size = inv.view_size + int(rng.poisson(0.08 * len(members)))
    view = list(dict.fromkeys(order))[:size]
    if inv.deep:
        # Up the supply chain: the supplier of the top person, then theirs, ...
        top = net.leader
        for p_up in (1.0, 0.6, 0.25):
            sup = persons[top].supplier
            if sup < 0 or rng.random() >= p_up:
                break
            if sup not in view:
                view.append(sup)
            top = sup
    return view


def _phone_selectors(
    rng: np.random.Generator, w: World, inv: Investigation, person: int
) -> list[int]:
    """The person's lines this investigation knows: burners near the case, sometimes more."""
    lines = w.lines_of(person)
    opened = (inv.opened - EPOCH).days
    near = [
        ln for ln in lines if w.line_start[ln] <= opened + 150 and w.line_end[ln] >= opened - 90
    ]
    main = [ln for ln in near if w.line_slot[ln] == 0 and w.line_owner[ln] == person]
    other = [ln for ln in near if ln not in main]
    k = min(len(main), 1 + int(rng.poisson(1.0)))
    start = int(rng.integers(0, len(main) - k + 1)) if main else 0
    chosen = main[start : start + k]
    chosen += [ln for ln in other if rng.random() < 0.55]
    return chosen


def _line_on(w: World, person: int, day: int) -> int:
    """The main line the person used on ``day`` (the burner of the moment)."""
    for ln in w.lines_of(person):
        mine = w.line_owner[ln] == person and w.line_slot[ln] == 0
        if mine and w.line_start[ln] <= day < w.line_end[ln]:
            return ln
    return w.lines_of(person)[0]


def views(rng: np.random.Generator, w: World, invs: list[Investigation]) -> None:
    """Who each investigation targets (``inv.view``). Chosen before anyone's phones are, so
    the world can give burner chains to the traffickers whose phones are actually worked."""
    supplied: dict[int, list[int]] = {}
    for p in w.persons:
        if p.supplier >= 0 and not p.civilian:
            supplied.setdefault(p.supplier, []).append(p.idx)
    for inv in invs:
        inv.view = _view(rng, w, inv, supplied)


def build(rng: np.random.Generator, w: World, invs: list[Investigation]) -> Records:
    """The investigations' records of the people in their views (``views`` ran first)."""
    rec = Records()
    for inv in invs:
        _records(rng, w, inv, rec)
    return rec


SELECTOR_UNATTRIBUTED = 0.15  # selector records that name no subject
DUPLICATE_IN_CASE = 0.035  # case files holding one person twice
MONIKER_ONLY = 0.07  # subject records known only by a moniker or a phone
FALSE_IDENTITY_USE = 0.6  # a person with a false identity uses it in a later record
ID_ON_WRONG_PERSON = 0.005  # an identifier written on another subject of the case


def _records(rng: np.random.Generator, w: World, inv: Investigation, rec: Records) -> None:
    iid = inv.inv_id
    subj_of: dict[int, str] = {}
    ids: list[str] = []
    people: list[int] = []
    day = (inv.opened - EPOCH).days
    twice = inv.view[int(rng.integers(len(inv.view)))] if rng.random() < DUPLICATE_IN_CASE else -1
    by_person: dict[int, list[str]] = {}
    for person in [*inv.view, *([twice] if twice >= 0 else [])]:
        sid = f"{iid}-S{len(ids) + 1:02d}"
        p = w.persons[person]
        seen = rec.n_records.get(person, 0)
        mode = "true"
        if rng.random() < MONIKER_ONLY:
            mode = "moniker"
        elif p.false_identity is not None and seen and rng.random() < FALSE_IDENTITY_USE:
            mode = "false"
        rec.n_records[person] = seen + 1
        row = {"subject_id": sid, "investigation_id": iid}
        row.update(render.subject(rng, p, day, mode))
        rec.subjects.append(row)
        rec.truth.append((sid, person_id(person)))
        rec.record_type[sid] = "subjects"
        rec.agencies_of.setdefault(person, set()).add(inv.agency_id)
        subj_of.setdefault(person, sid)
        by_person.setdefault(person, []).append(sid)
        ids.append(sid)
        people.append(person)
    # A data-entry error: an identifier copied onto another subject of the same case.
    rows = rec.subjects[-len(ids) :]
    if len(rows) > 1 and rng.random() < ID_ON_WRONG_PERSON * len(rows):
        src, dst = (int(x) for x in rng.choice(len(rows), size=2, replace=False))
        first = rows[src].get("identifiers", "").split("|")[0]
        if first:
            mine = rows[dst].get("identifiers", "")
            rows[dst]["identifiers"] = f"{mine}|{first}" if mine else first
    rec.subject_ids[inv.idx] = ids
    rec.subject_people[inv.idx] = people
    rec.subjects_of[inv.idx] = by_person

    # Organizations: the network's own, a crew, the cartel it names, the supplier's.
    net = w.networks[inv.network]
    orgs: list[int] = []
    if rng.random() < 0.85:
        orgs.append(net.org)
    crews = sorted({w.persons[p].crew for p in inv.view if w.persons[p].crew >= 0})
    orgs += [c for c in crews if rng.random() < 0.7]
    if inv.cartel and rng.random() < 0.6:
        orgs.append(w.cartel_org[inv.cartel])
    if inv.deep:
        up = {w.networks[w.persons[p].network].org for p in inv.view}
        orgs += sorted(o for o in up if o not in orgs)
    org_rec: dict[int, str] = {}
    for n, o in enumerate(dict.fromkeys(orgs), start=1):
        oid = f"{iid}-O{n}"
        name, aliases = render.org_name(rng, w.orgs[o])
        rec.organizations.append(
            {
                "organization_id": oid,
                "investigation_id": iid,
                "name": name,
                "kind": w.orgs[o].kind.value,
                "aliases": aliases,
            }
        )
        rec.truth.append((oid, org_id(o)))
        rec.record_type[oid] = "organizations"
        org_rec[o] = oid

    # Selectors.
    sel_n = 0

    def add_selector(
        subject: int, kind: SelectorKind, value: str, platform: str, entity: str
    ) -> str:
        nonlocal sel_n
        sel_n += 1
        xid = f"{iid}-P{sel_n:02d}"
        known = subject in subj_of and rng.random() >= SELECTOR_UNATTRIBUTED
        rec.selectors.append(
            {
                "selector_id": xid,
                "investigation_id": iid,
                "subject_id": subj_of[subject] if known else "",
                "kind": kind.value,
                "value": value,
                "platform": platform,
            }
        )
        rec.truth.append((xid, entity))
        rec.record_type[xid] = "selectors"
        rec.held.setdefault((inv.idx, subject), set()).add(entity)
        if known:
            rec.selectors_of.setdefault(subj_of[subject], []).append(entity)
        return xid

    uses: list[tuple[str, str]] = []
    for person in inv.view:
        for ln in _phone_selectors(rng, w, inv, person):
            style = int(rng.integers(8))
            xid = add_selector(
                person,
                SelectorKind.PHONE,
                render_phone(w.line_number[ln], style),
                "",
                line_id(ln),
            )
            rec.lines_seen.add(ln)
            if rng.random() < 0.15:
                uses.append((subj_of[person], xid))
        if rng.random() < 0.08:
            e = w.email(rng, person)
            add_selector(
                person, SelectorKind.EMAIL, render.email(rng, w.emails[e][1]), "", email_id(e)
            )
            rec.emails_seen.add(e)

    # Platform users: dealers first. Every platform the investigation involves gets at least
    # one selector record, so involvement never depends on communication volume.
    users: list[tuple[int, Platform]] = []
    dealers_first = sorted(
        inv.view, key=lambda p: (w.persons[p].role != Role.DEALER, inv.view.index(p))
    )
    for platform in inv.platforms:
        k = min(len(dealers_first), 1 + int(rng.poisson(0.7)))
        for person in dealers_first[:k]:
            users.append((person, platform))
            if platform in PHONE_PLATFORMS:
                ln = _line_on(w, person, (inv.opened - EPOCH).days)
                value = render_phone(w.line_number[ln], int(rng.integers(8)))
                add_selector(person, SelectorKind.PHONE, value, platform.value, line_id(ln))
                rec.lines_seen.add(ln)
            else:
                a = w.account(rng, person, platform)
                add_selector(
                    person,
                    SelectorKind.ACCOUNT,
                    render.account(rng, w.accounts[a]),
                    platform.value,
                    account_id(a),
                )
                rec.accounts_seen.add(a)
        dealers_first = dealers_first[k:] + dealers_first[:k]
    rec.platform_users[inv.idx] = users

    # Relationships the investigation states.
    rel_n = 0

    def rel(kind: RelationshipKind, a: str, b: str, since: str = "") -> None:
        nonlocal rel_n
        rel_n += 1
        rec.relationships.append(
            {
                "relationship_id": f"{iid}-R{rel_n:02d}",
                "investigation_id": iid,
                "kind": kind.value,
                "from_id": a,
                "to_id": b,
                "since": since,
                "until": "",
            }
        )

    kinds = {
        "supply": RelationshipKind.SUPPLIES,
        "family": RelationshipKind.FAMILY,
        "communication": RelationshipKind.ASSOCIATE,
        "association": RelationshipKind.ASSOCIATE,
    }
    odds = {"supply": 0.8, "family": 0.9, "communication": 0.25, "association": 0.4}
    for a, b, kind, hidden in w.ties_among(inv.view):
        if hidden or kind not in kinds or rng.random() >= odds[kind]:
            continue
        since = ""
        if kind == "supply" and rng.random() < 0.3:
            since = (inv.opened - timedelta(days=int(rng.integers(30, 700)))).isoformat()
        if kind == "supply" and w.persons[a].supplier == b:
            a, b = b, a  # the supplier first
        rel(kinds[kind], subj_of[a], subj_of[b], since)
        rec.stated.add((min(a, b), max(a, b), kind))
    for person in inv.view:
        p = w.persons[person]
        if p.crew in org_rec and rng.random() < 0.6:
            rel(RelationshipKind.MEMBER_OF, subj_of[person], org_rec[p.crew])
            rec.member_stated.add((person, p.crew))
        elif net.org in org_rec and p.network == net.idx and rng.random() < 0.3:
            rel(RelationshipKind.MEMBER_OF, subj_of[person], org_rec[net.org])
            rec.member_stated.add((person, net.org))
    for sid, xid in uses:
        rel(RelationshipKind.USES_SELECTOR, sid, xid)
