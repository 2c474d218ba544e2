"""Investigations: who opens them, when, against which network, and what each must produce.

The calibrated totals of a division are split here across its investigations (arrests, drug
quantities, firearms, currency, platform involvement), so the records written later only
have to split each investigation's share into individual exhibits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from lastmile.model import InvestigationStatus, Platform
from lastmile.synth.agencies import AgencyRoster
from lastmile.synth.calibration import QUANTITIES, WINDOW_FROM, WINDOW_TO, DivisionPlan, allocate
from lastmile.synth.geo import GEO, HUB_CITIES
from lastmile.synth.world import NetworkSpec

SOCIAL: tuple[tuple[Platform, float], ...] = (
    (Platform.SNAPCHAT, 0.35),
    (Platform.INSTAGRAM, 0.30),
    (Platform.FACEBOOK, 0.20),
    (Platform.TIKTOK, 0.15),
)
ENCRYPTED: tuple[tuple[Platform, float], ...] = (
    (Platform.WHATSAPP, 0.35),
    (Platform.TELEGRAM, 0.25),
    (Platform.SIGNAL, 0.20),
    (Platform.WICKR, 0.12),
    (Platform.WIRE, 0.08),
)
# Platforms outside the operation's two classes: they show up, and must not be counted.
UNCOUNTED: tuple[Platform, ...] = (
    Platform.CASHAPP,
    Platform.KIK,
    Platform.DISCORD,
    Platform.MESSENGER,
    Platform.X,
)
# Share of investigations with a share of each quantity (the rest seize none of it).
PARTICIPATION: dict[str, float] = {
    "arrests": 0.75,
    "pills": 0.55,
    "powder_g": 0.35,
    "meth_g": 0.5,
    "cocaine_g": 0.3,
    "heroin_g": 0.15,
    "cannabis_g": 0.2,
    "other_g": 0.1,
    "firearms": 0.45,
    "currency": 0.55,
}
# Investigations whose cartel label is wrong: the agency names one cartel while the network
# it works belongs to the other (the published split counts the labels, so it is kept).
WRONG_CARTEL = 0.07
MAX_ARRESTS = 18  # per investigation, so views stay a plausible size
LAST_OPENED = date(2023, 3, 31)


@dataclass
class Investigation:
    idx: int
    inv_id: str
    agency_id: str
    case_number: str
    division: str
    city: str
    state: str
    opened: date
    closed: date | None
    status: InvestigationStatus
    cartel: str  # as the agency names it; "" when it names none
    true_cartel: str
    platforms: tuple[Platform, ...]
    alloc: dict[str, int]
    view_size: int
    deep: bool  # follows the supply chain up to the hub and Mexico
    spec: int  # local network spec, or -1 when it targets a hub
    hub: tuple[str, str]  # (hub city, cartel) that supplies (or is) the target
    utc_offset_min: int
    ts_style: int  # 0: UTC "Z", 1: local offset
    fmt: int  # how its toll returns write numbers
    eleven: bool  # carrier export: 11-digit US numbers
    network: int = -1  # set once the world is built
    view: list[int] = field(default_factory=list)  # people it has subject records for

    @property
    def last_day(self) -> date:
        """Arrests and seizures fall between opening and this day (inside the window)."""
        end = WINDOW_TO - timedelta(days=1)
        return min(end, self.closed) if self.closed else end


def _choose(rng: np.random.Generator, table: tuple[tuple[Platform, float], ...]) -> list[Platform]:
    k = 1 if rng.random() < 0.7 else 2
    p = np.array([w for _, w in table])
    picks = rng.choice(len(table), size=k, replace=False, p=p / p.sum())
    return [table[int(i)][0] for i in sorted(picks)]


def _split(rng: np.random.Generator, n: int, plan: DivisionPlan) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for q in QUANTITIES:
        total = plan.totals.get(q, 0)
        mask = rng.random(n) < PARTICIPATION[q]
        weights = rng.lognormal(0.0, 1.0, size=n) * mask
        if total > 0 and not mask.any():
            weights[int(rng.integers(n))] = 1.0
        caps = np.full(n, MAX_ARRESTS, dtype=np.int64) if q == "arrests" else None
        if caps is not None and total > MAX_ARRESTS * int((weights > 0).sum()):
            weights = np.where(weights > 0, weights, 0.05)  # spread to others when needed
        out[q] = allocate(total, weights, caps)
    return out


def plan(
    rng: np.random.Generator,
    plans: list[DivisionPlan],
    roster: AgencyRoster,
    agency_draws: list[float] | None = None,
) -> tuple[list[Investigation], list[NetworkSpec], list[tuple[str, str]]]:
    """Investigations, the local networks they target, and the hub supplying each network."""
    invs: list[Investigation] = []
    specs: list[NetworkSpec] = []
    spec_hub: list[tuple[str, str]] = []
    seq: dict[tuple[str, str, int], int] = {}
    hub_divs = {d: c for c, d in HUB_CITIES}
    span = (LAST_OPENED - WINDOW_FROM).days
    for dp in plans:
        geo = GEO[dp.division]
        n = dp.investigations
        cartels = np.array(
            ["Sinaloa"] * dp.cartels.get("Sinaloa", 0) + ["Jalisco"] * dp.cartels.get("Jalisco", 0)
        )
        rng.shuffle(cartels)
        ps = dp.platforms
        classes = np.array(
            [3] * ps.both + [1] * ps.social_only + [2] * ps.encrypted_only + [0] * (n - ps.any)
        )
        rng.shuffle(classes)
        alloc = _split(rng, n, dp)
        # Local networks per cartel: about one for every two investigations, so several
        # agencies end up working the same people.
        div_specs: dict[str, list[int]] = {}
        for cartel in ("Sinaloa", "Jalisco"):
            n_c = int((cartels == cartel).sum())
            k = max(1, round(n_c / 2.2)) if n_c else 0
            div_specs[cartel] = []
            for _ in range(k):
                city = int(rng.choice(len(geo.cities), p=_city_weights(len(geo.cities))))
                prefs = [h for h in geo.hubs]
                hub_city = prefs[0] if rng.random() < 0.6 else prefs[int(rng.integers(len(prefs)))]
                specs.append(NetworkSpec(dp.division, cartel, city, 0))
                spec_hub.append((hub_city, cartel))
                div_specs[cartel].append(len(specs) - 1)
        used: dict[str, int] = {c: 0 for c in div_specs}
        for i in range(n):
            label = str(cartels[i])  # the cartel the agency names (the published split)
            cartel = label  # the cartel whose network it really works
            other = "Jalisco" if label == "Sinaloa" else "Sinaloa"
            if rng.random() < WRONG_CARTEL and div_specs.get(other):
                cartel = other
            u = agency_draws[len(invs)] if agency_draws else None
            agency = roster.pick(dp.division, u)
            opened = WINDOW_FROM + timedelta(days=int(rng.integers(0, span + 1)))
            y = opened.year
            key = (agency, geo.code, y)
            seq[key] = seq.get(key, 0) + 1
            s = seq[key]
            inv_id = f"{agency}-{geo.code}-{y}-{s:04d}"
            case = f"{geo.code}-{y % 100:02d}-{s:04d}" if agency == "DEA" else f"{y}-{s:05d}"
            status = InvestigationStatus.OPEN
            closed: date | None = None
            r = rng.random()
            if r < 0.35:
                closed = opened + timedelta(days=int(rng.integers(60, 420)))
                status = InvestigationStatus.CLOSED
            elif r < 0.42:
                status = InvestigationStatus.SUSPENDED
            platforms: list[Platform] = []
            cls = int(classes[i])
            if cls & 1:
                platforms += _choose(rng, SOCIAL)
            if cls & 2:
                platforms += _choose(rng, ENCRYPTED)
            if rng.random() < 0.15:
                platforms.append(UNCOUNTED[int(rng.integers(len(UNCOUNTED)))])
            arrests = int(alloc["arrests"][i])
            view = max(3 + int(rng.poisson(4)), arrests + 1 + int(rng.integers(0, 3)))
            city_i = int(rng.choice(len(geo.cities), p=_city_weights(len(geo.cities))))
            # In a hub city some investigations go after the hub organization itself.
            if dp.division in hub_divs and rng.random() < 0.2:
                spec = -1
                hub = (hub_divs[dp.division], cartel)
            else:
                pool = div_specs[cartel]
                if used[cartel] < len(pool):
                    spec = pool[used[cartel]]  # every network gets at least one investigation
                    used[cartel] += 1
                else:
                    zipf = 1.0 / np.arange(1, len(pool) + 1)
                    spec = pool[int(rng.choice(len(pool), p=zipf / zipf.sum()))]
                hub = spec_hub[spec]
                old = specs[spec]
                specs[spec] = NetworkSpec(
                    old.division, old.cartel, old.city_index, max(old.min_size, view + 2)
                )
                city_i = old.city_index
            c = geo.cities[city_i % len(geo.cities)]
            named = label if dp.division == "Rocky Mountain" or rng.random() < 0.93 else ""
            invs.append(
                Investigation(
                    idx=len(invs),
                    inv_id=inv_id,
                    agency_id=agency,
                    case_number=case,
                    division=dp.division,
                    city=c.name,
                    state=c.state,
                    opened=opened,
                    closed=closed,
                    status=status,
                    cartel=named,
                    true_cartel=cartel,
                    platforms=tuple(platforms),
                    alloc={q: int(alloc[q][i]) for q in QUANTITIES},
                    view_size=view,
                    deep=rng.random() < (0.35 if agency == "DEA" else 0.15),
                    spec=spec,
                    hub=hub,
                    utc_offset_min=geo.utc_offset_min,
                    ts_style=int(rng.random() < 0.5),
                    fmt=int(rng.integers(0, 5)),
                    eleven=bool(rng.random() < 0.5),
                )
            )
    return invs, specs, spec_hub


def _city_weights(n: int) -> np.ndarray:
    # The division's main city carries most of the cases.
    w = np.array([3.0] + [1.0] * (n - 1))
    out: np.ndarray = w / w.sum()
    return out
