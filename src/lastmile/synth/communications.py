"""Communications between selectors: toll-record calls and texts, and app messages.

Built in two steps. First, in a Python loop over investigations and their targets (thousands
of rows, not millions), the *edges*: who a target talks to (supplier, crew, kin, customers)
and on which channel, with a heavy-tailed weight (a few hubs talk a lot). Then, fully
vectorized with numpy, the *events*: edges drawn by weight, a day, an hour from an evening-
heavy daily rhythm, a direction, a kind and a duration; the phone line each person used that
day is looked up in the burner chains (so an old number goes silent at its handover and the
new one carries on with the same contacts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lastmile.model import CommunicationKind, Platform, Role
from lastmile.synth.cases import Investigation
from lastmile.synth.phones import carrier_digits, national
from lastmile.synth.records import PHONE_PLATFORMS, Records
from lastmile.synth.world import COMM_FROM, COMM_TO, EPOCH, FOREVER, World

PLATFORMS: tuple[Platform, ...] = tuple(Platform)
# Relative volume per local hour of day: quiet before dawn, busiest in the evening.
RHYTHM = np.array(
    [
        3,
        2,
        1.5,
        1,
        0.7,
        0.6,
        0.8,
        1.5,
        2.5,
        3,
        3.5,
        4,
        4.5,
        4.5,
        4.5,
        5,
        5.5,
        6,
        7,
        8,
        8.5,
        8,
        6.5,
        4.5,
    ],
    dtype=np.float64,
)
N_FORMATS = 5
# A burner user's phone is a working phone: the edges of a targeted burner user are scaled up
# so the person carries at least the traffic of this quantile of all targets (a dealer's
# working phone: several events a day), so no line of a chain is starved.
BURNER_FLOOR_QUANTILE = 0.95
# The most customers one person deals with (the stable core every line of a chain reaches).
MAX_CUSTOMERS = 80
_EPOCH_S = int(np.datetime64(EPOCH.isoformat(), "s").astype(np.int64))


@dataclass
class Edges:
    inv: np.ndarray
    a: np.ndarray  # the target (person index)
    b: np.ndarray  # the other party (person or customer index)
    platform: np.ndarray  # 0: phone call/text; k: PLATFORMS[k - 1]
    acc_a: np.ndarray  # account index for account platforms, else -1
    acc_b: np.ndarray
    weight: np.ndarray


def _edges(rng: np.random.Generator, w: World, invs: list[Investigation], rec: Records) -> Edges:
    n_people = len(w.persons)
    act = np.array([p.activity for p in w.persons])
    cust_act = rng.lognormal(0.0, 0.8, size=len(w.customer_division)) * 0.4
    cols: dict[str, list[int]] = {k: [] for k in ("inv", "a", "b", "platform", "acc_a", "acc_b")}
    weights: list[float] = []

    def add(i: int, a: int, b: int, plat: int, aa: int, ab: int, wt: float) -> None:
        cols["inv"].append(i)
        cols["a"].append(a)
        cols["b"].append(b)
        cols["platform"].append(plat)
        cols["acc_a"].append(aa)
        cols["acc_b"].append(ab)
        weights.append(wt)

    core: dict[int, np.ndarray] = {}

    def customers(person: int, k: int) -> np.ndarray:
        """The person's first ``k`` customers: one stable list per person, whichever
        investigation looks and whichever phone the person carries that week."""
        if person not in core:
            p = w.persons[person]
            div = w.networks[p.network].division or "Los Angeles"
            lo, hi = w.customer_city.get((div, p.city), w.customer_pool[div])
            size = min(MAX_CUSTOMERS, hi - lo)
            # Customers cluster by territory: a crew sells mostly inside one stretch of its
            # city's customers (a window placed by the crew), the rest anywhere in the city.
            span = hi - lo
            width = min(span, 2 * size)
            start = lo + (max(p.crew, 0) * 7919) % span
            window = lo + (np.arange(start - lo, start - lo + width) % span)
            near = rng.choice(window, size=min(width, int(0.8 * size) + 1), replace=False)
            anywhere = rng.choice(np.arange(lo, hi), size=size, replace=False)
            core[person] = np.array(list(dict.fromkeys([*near, *anywhere]))[:size])
        return core[person][:k]

    for inv in invs:
        i = inv.idx
        for person in inv.view:
            pa_ = act[person]
            for c in w.ties(person):
                add(i, person, c, 0, -1, -1, 3.0 * pa_ * np.sqrt(act[c]))
            if w.persons[person].role == Role.DEALER:
                for c in customers(person, 3 + int(rng.poisson(6 * min(pa_, 5.0)))):
                    add(i, person, int(c), 0, -1, -1, pa_ * cust_act[c - n_people])
        for person, platform in rec.platform_users.get(i, []):
            code = PLATFORMS.index(platform) + 1
            phone_based = platform in PHONE_PLATFORMS
            aa = -1 if phone_based else w.account(rng, person, platform)
            for c in customers(person, 4 + int(rng.poisson(12))):
                ab = -1 if phone_based else w.account(rng, int(c), platform)
                add(i, person, int(c), code, aa, ab, 2.0 * act[person] * cust_act[c - n_people])
            for c in w.ties(person):
                if rng.random() < 0.5:
                    ab = -1 if phone_based else w.account(rng, c, platform)
                    add(i, person, c, code, aa, ab, 2.0 * act[person] * np.sqrt(act[c]))
    e = Edges(
        **{k: np.array(v, dtype=np.int64) for k, v in cols.items()},
        weight=np.array(weights, dtype=np.float64),
    )
    _floor_burners(w, e)
    return e


def _floor_burners(w: World, e: Edges) -> None:
    """Scale up the edges of targeted burner users who talk less than the floor (in place)."""
    if len(e.weight) == 0:
        return
    n = len(w.persons)
    total = np.bincount(e.a, weights=e.weight, minlength=n)
    targets = np.unique(e.a)
    floor = float(np.quantile(total[targets], BURNER_FLOOR_QUANTILE))
    burner = np.array([p.burner for p in w.persons], dtype=bool)
    factor = np.ones(n, dtype=np.float64)
    low = burner & (total > 0) & (total < floor)
    factor[low] = floor / total[low]
    e.weight *= factor[e.a]


class _Chains:
    """Which line a person used on a given day, for every (person, slot), vectorized."""

    def __init__(self, w: World) -> None:
        owner = np.array(w.line_owner, dtype=np.int64)
        slot = np.array(w.line_slot, dtype=np.int64)
        start = np.array(w.line_start, dtype=np.int64)
        line = np.arange(len(owner), dtype=np.int64)
        pairs = [(ln, u, 0) for ln, users in sorted(w.line_shared_with.items()) for u in users]
        pairs += [(ln, u, d) for ln, (u, d) in sorted(w.line_passed.items())]
        shared = np.array(pairs, dtype=np.int64).reshape(-1, 3)
        # A family or crew phone is also its co-users' second line; a burner passed on is
        # the new user's second line from the day it changed hands.
        owner = np.concatenate([owner, shared[:, 1]])
        slot = np.concatenate([slot, np.ones(len(shared), dtype=np.int64)])
        start = np.concatenate([start, shared[:, 2]])
        line = np.concatenate([line, shared[:, 0]])
        key = (owner * 2 + slot) * (FOREVER + 1) + start
        order = np.argsort(key, kind="stable")
        self.key = key[order]
        self.line = line[order]
        n = int(owner.max()) + 1
        self.has_second = np.zeros(n, dtype=bool)
        self.has_second[owner[slot == 1]] = True

    def lookup(self, person: np.ndarray, slot: np.ndarray, day: np.ndarray) -> np.ndarray:
        slot = np.where(self.has_second[person], slot, 0)
        q = (person * 2 + slot) * (FOREVER + 1) + day
        found: np.ndarray = self.line[np.searchsorted(self.key, q, side="right") - 1]
        return found


def _selector_strings(w: World) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Every line and account written N_FORMATS ways (a return's export style), and the
    carrier digit forms (10 and 11 digits) of every line."""
    styles: list[list[str]] = [[] for _ in range(N_FORMATS)]
    ten: list[str] = []
    eleven: list[str] = []
    for e164 in w.line_number:
        cc, area, sub = national(e164)
        styles[0].append(e164)
        styles[1].append(e164[1:])
        if cc == "1":
            styles[2].append(area + sub)
            styles[3].append(f"({area}) {sub[:3]}-{sub[3:]}")
            styles[4].append(f"{area}.{sub[:3]}.{sub[3:]}")
        else:
            styles[2].append(f"+52 {area} {sub[:-4]} {sub[-4:]}")
            styles[3].append(f"+52 {area} {sub[:-4]} {sub[-4:]}")
            styles[4].append(f"044 {area} {sub[:-4]} {sub[-4:]}")
        ten.append(carrier_digits(e164, False))
        eleven.append(carrier_digits(e164, True))
    for acc in w.accounts:
        for k, s in enumerate(
            (acc.handle, "@" + acc.handle, acc.display, "@" + acc.display, acc.handle)
        ):
            styles[k].append(s)
    flat = pa.array([s for st in styles for s in st], type=pa.string())
    return flat, pa.array(ten, type=pa.string()), pa.array(eleven, type=pa.string())


def generate(
    rng: np.random.Generator,
    w: World,
    invs: list[Investigation],
    rec: Records,
    n_events: int,
    toll_records: bool,
) -> tuple[pa.Table, pa.Table | None, np.ndarray]:
    """(communications table in interchange columns, carrier CDR table or None, the pairs
    of people whose communications some return shows, as rows (a, b) with a < b).

    The CDR table carries an extra ``investigation_id`` column for splitting into files.
    """
    e = _edges(rng, w, invs, rec)
    if len(e.weight) == 0 or n_events <= 0:
        n_events = 0
    n_lines = len(w.line_number)
    n_sel = n_lines + len(w.accounts)
    idx = (
        rng.choice(len(e.weight), size=n_events, p=e.weight / e.weight.sum())
        if n_events
        else (np.zeros(0, dtype=np.int64))
    )
    inv = e.inv[idx]
    day = rng.integers(COMM_FROM, COMM_TO, size=n_events)
    hour = rng.choice(24, size=n_events, p=RHYTHM / RHYTHM.sum())
    sec = rng.integers(0, 3600, size=n_events)
    offset = np.array([v.utc_offset_min for v in invs], dtype=np.int64)[inv] * 60
    local_s = day * 86400 + hour * 3600 + sec
    utc_s = local_s - offset
    mo = rng.random(n_events) < 0.55  # the target originated
    plat = e.platform[idx]
    u = rng.random(n_events)
    kind = np.where(plat == 0, np.where(u < 0.55, 0, 1), np.where(u < 0.9, 2, 3))
    # A burner is replaced on its successor's start day (a local day).
    look_day = day
    chains = _Chains(w)
    slot_a = (rng.random(n_events) < 0.25).astype(np.int64)
    slot_b = (rng.random(n_events) < 0.25).astype(np.int64)
    a, b = e.a[idx], e.b[idx]
    people = len(w.persons)
    both = (a < people) & (b < people)
    lo, hi = np.minimum(a[both], b[both]), np.maximum(a[both], b[both])
    seen = np.unique(lo * people + hi)
    pairs = np.stack([seen // people, seen % people], axis=1)
    phone_plat = np.isin(plat, [PLATFORMS.index(p) + 1 for p in PHONE_PLATFORMS])
    uses_line = (plat == 0) | phone_plat
    sel_a = np.where(uses_line, chains.lookup(a, slot_a, look_day), n_lines + e.acc_a[idx])
    sel_b = np.where(uses_line, chains.lookup(b, slot_b, look_day), n_lines + e.acc_b[idx])
    dur = np.clip(rng.lognormal(4.0, 1.1, size=n_events), 1, 7200).astype(np.int64)
    is_call = (kind == 0) | (kind == 3)

    # Sort by investigation, then time: each investigation's returns read in order.
    order = np.lexsort((utc_s, inv))
    inv, utc_s, local_s, mo, kind, plat = (
        inv[order],
        utc_s[order],
        local_s[order],
        mo[order],
        kind[order],
        plat[order],
    )
    sel_a, sel_b, dur, is_call = sel_a[order], sel_b[order], dur[order], is_call[order]
    orig = np.where(mo, sel_a, sel_b)
    term = np.where(mo, sel_b, sel_a)

    flat, ten, eleven = _selector_strings(w)
    fmt = np.array([v.fmt for v in invs], dtype=np.int64)[inv]
    inv_ids = pa.array([v.inv_id for v in invs], type=pa.string())
    ts_local = np.array([v.ts_style for v in invs], dtype=bool)[inv]
    shown = np.where(ts_local, local_s, utc_s) + _EPOCH_S
    suffix = pa.array(
        ["Z" if not v.ts_style else _offset(v.utc_offset_min) for v in invs], type=pa.string()
    ).take(pa.array(inv))
    stamp = pc.strftime(pa.array(shown.astype("datetime64[s]")), format="%Y-%m-%dT%H:%M:%S")
    kinds = pa.array([k.value for k in CommunicationKind], type=pa.string())
    plats = pa.array(["", *(p.value for p in PLATFORMS)], type=pa.string())
    comms = pa.table(
        {
            "communication_id": pa.nulls(n_events, pa.string()),
            "investigation_id": inv_ids.take(pa.array(inv)),
            "time": pc.binary_join_element_wise(stamp, suffix, ""),
            "from_selector": flat.take(pa.array(fmt * n_sel + orig)),
            "to_selector": flat.take(pa.array(fmt * n_sel + term)),
            "kind": kinds.take(pa.array(kind)),
            "platform": plats.take(pa.array(plat)),
            "duration_s": pc.cast(pa.array(np.where(is_call, dur, 0), mask=~is_call), pa.string()),
        }
    )
    comms = comms.set_column(6, "platform", _blank_to_null(comms.column("platform")))
    if not toll_records:
        return comms, None, pairs

    # Carrier CDRs: calls and texts only, numbers as digits, UTC in US month/day order.
    keep = np.flatnonzero(kind <= 1)
    eleven_inv = np.array([v.eleven for v in invs], dtype=bool)[inv[keep]]
    digits_o = pc.if_else(
        pa.array(eleven_inv), eleven.take(pa.array(orig[keep])), ten.take(pa.array(orig[keep]))
    )
    digits_t = pc.if_else(
        pa.array(eleven_inv), eleven.take(pa.array(term[keep])), ten.take(pa.array(term[keep]))
    )
    cdr = pa.table(
        {
            "investigation_id": inv_ids.take(pa.array(inv[keep])),
            "orig_number": digits_o,
            "term_number": digits_t,
            "start_time": pc.strftime(
                pa.array((utc_s[keep] + _EPOCH_S).astype("datetime64[s]")),
                format="%m/%d/%Y %H:%M:%S",
            ),
            "duration_sec": pa.array(np.where(kind[keep] == 0, dur[keep], 0)),
            "direction": pa.array(np.where(mo[keep], "MO", "MT")),
            "event_type": pa.array(np.where(kind[keep] == 0, "VOICE", "SMS")),
        }
    )
    return comms, cdr, pairs


def _offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    m = abs(minutes)
    return f"{sign}{m // 60:02d}:{m % 60:02d}"


def _blank_to_null(col: pa.ChunkedArray) -> pa.ChunkedArray:
    return pc.if_else(pc.equal(col, ""), pa.scalar(None, pa.string()), col)
