"""The published figures the synthetic operation reproduces, and how they are split.

Totals are allocated top-down in whole base units (pills, grams, firearms, dollars): first to
divisions (the divisions the announcement names get their figures, the rest share the
remainder), then to investigations, then to individual records. Every split uses the
largest-remainder rule, so each level sums exactly to the level above by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from lastmile.model import DIVISIONS

LB_G = 453.59237
OZ_G = 28.349523125
WINDOW_FROM = date(2022, 5, 1)
WINDOW_TO = date(2023, 5, 1)
DEFAULT_SEED = 2022  # the year the operation began; documented in docs/synth.md

# Quantities allocated top-down, in base units.
QUANTITIES: tuple[str, ...] = (
    "arrests",
    "pills",  # fentanyl pills, count
    "powder_g",  # fentanyl by mass, grams
    "meth_g",
    "cocaine_g",
    "heroin_g",
    "cannabis_g",
    "other_g",
    "firearms",
    "currency",  # US dollars
)


def _lb(pounds: float) -> int:
    return round(pounds * LB_G)


# The announcement's national figures. Cocaine, heroin, cannabis and other drugs were not
# published; the synthetic values are plausible and only there to make reports non-trivial.
NATIONAL: dict[str, int] = {
    "investigations": 1436,
    "arrests": 3337,
    "pills": 44_000_000,
    "powder_g": _lb(6_500),
    "meth_g": _lb(91_000),
    "cocaine_g": _lb(3_900),
    "heroin_g": _lb(420),
    "cannabis_g": _lb(17_500),
    "other_g": _lb(160),
    "firearms": 8_497,
    "currency": 100_000_000,
    "platform_any": 1_100,
}

# Division figures from the announcement's field-division summaries. Louisville's pills and
# powder are chosen so their deadly doses come to exactly 1,762,240
# (1,053,545 x 0.6 + 20,002,000 mg x 0.113 / 2); Detroit's give 3,809,750 (> 3.8 million).
FIXED: dict[str, dict[str, int]] = {
    "Rocky Mountain": {
        "investigations": 72,
        "arrests": 65,
        "pills": 375_000,
        "powder_g": _lb(25),
        "meth_g": _lb(126),
        "firearms": 100,
        "currency": 1_800_000,
    },
    "Louisville": {
        "investigations": 28,
        "arrests": 137,
        "pills": 1_053_545,
        "powder_g": 20_002,
        "meth_g": _lb(544),
        "firearms": 621,
        "currency": 4_120_000,
    },
    "Omaha": {"investigations": 26, "arrests": 87, "firearms": 60},
    "Detroit": {"pills": 1_500_000, "powder_g": 51_500, "meth_g": _lb(201)},
}
# Investigations naming each cartel, where published.
FIXED_CARTELS: dict[str, dict[str, int]] = {"Rocky Mountain": {"Sinaloa": 60, "Jalisco": 12}}


@dataclass(frozen=True)
class PlatformSplit:
    """How many investigations involve social media only, encrypted apps only, or both."""

    social_only: int
    encrypted_only: int
    both: int

    @property
    def social(self) -> int:
        return self.social_only + self.both

    @property
    def encrypted(self) -> int:
        return self.encrypted_only + self.both

    @property
    def any(self) -> int:
        return self.social_only + self.encrypted_only + self.both


# Rocky Mountain: 17 social media and 25 encrypted; 9 involve both (33 involve either).
FIXED_PLATFORMS: dict[str, PlatformSplit] = {"Rocky Mountain": PlatformSplit(8, 16, 9)}

# Relative weight of each other division in the national remainder (a rough activity size).
DIVISION_WEIGHT: dict[str, float] = {
    "Atlanta": 6,
    "Caribbean": 2,
    "Chicago": 7,
    "Dallas": 6,
    "Detroit": 5,
    "El Paso": 4,
    "Houston": 8,
    "Los Angeles": 9,
    "Louisville": 2,
    "Miami": 6,
    "New England": 5,
    "New Jersey": 4,
    "New Orleans": 4,
    "New York": 7,
    "Omaha": 2,
    "Philadelphia": 5,
    "Phoenix": 8,
    "Rocky Mountain": 3,
    "San Diego": 7,
    "San Francisco": 5,
    "Seattle": 5,
    "St. Louis": 4,
    "Washington": 4,
}
# Methamphetamine moves mostly through the southwest border divisions.
METH_BIAS: dict[str, float] = {
    "Phoenix": 3.0,
    "San Diego": 3.0,
    "Los Angeles": 2.0,
    "El Paso": 2.0,
    "Houston": 1.5,
    "Dallas": 1.5,
}


@dataclass(frozen=True)
class DivisionPlan:
    division: str
    investigations: int
    totals: dict[str, int] = field(default_factory=dict)  # QUANTITIES
    cartels: dict[str, int] = field(default_factory=dict)  # investigations per cartel named
    platforms: PlatformSplit = PlatformSplit(0, 0, 0)


def allocate(total: int, weights: np.ndarray, caps: np.ndarray | None = None) -> np.ndarray:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder).

    With ``caps`` no share exceeds its cap; the overflow goes to the others by weight.
    Ties break by position, so the result is deterministic.
    """
    w = np.asarray(weights, dtype=np.float64)
    out = np.zeros(len(w), dtype=np.int64)
    if total <= 0 or len(w) == 0:
        return out
    cap = np.full(len(w), total, dtype=np.int64) if caps is None else caps
    if int(cap.sum()) < total:
        raise ValueError(f"cannot fit {total} into caps summing to {int(cap.sum())}")
    remaining = total
    while remaining > 0:
        open_ = (out < cap) & (w > 0)
        if not open_.any():
            open_ = out < cap
            w = np.where(open_, 1.0, 0.0)
        share = np.where(open_, w, 0.0)
        exact = share / share.sum() * remaining
        base = np.floor(exact).astype(np.int64)
        left = remaining - int(base.sum())
        order = np.lexsort((np.arange(len(w)), -(exact - base)))
        base[order[:left]] += 1
        new = np.minimum(out + base, cap)
        remaining -= int((new - out).sum())
        out = new
    return out


def national_plan(rng: np.random.Generator) -> list[DivisionPlan]:
    """All 23 divisions, summing exactly to the national figures."""
    divs = list(DIVISIONS)
    noise = rng.lognormal(0.0, 0.3, size=(len(QUANTITIES) + 2, len(divs)))
    base = np.array([DIVISION_WEIGHT[d] for d in divs])

    def spread(key: str, total: int, row: int, bias: dict[str, float] | None = None) -> np.ndarray:
        fixed = np.array([FIXED.get(d, {}).get(key, -1) for d in divs])
        free = fixed < 0
        w = base * noise[row] * np.array([(bias or {}).get(d, 1.0) for d in divs])
        out = np.where(free, 0, fixed).astype(np.int64)
        out[free] = allocate(total - int(out.sum()), w[free])
        return out

    inv = spread("investigations", NATIONAL["investigations"], 0)
    per_q = {
        q: spread(q, NATIONAL[q], i + 1, METH_BIAS if q == "meth_g" else None)
        for i, q in enumerate(QUANTITIES)
    }
    # Platform involvement: the fixed divisions keep theirs, the rest share the remainder in
    # proportion to their investigations (never more than they have).
    fixed_any = sum(p.any for p in FIXED_PLATFORMS.values())
    free = np.array([d not in FIXED_PLATFORMS for d in divs])
    any_ = np.zeros(len(divs), dtype=np.int64)
    any_[free] = allocate(
        NATIONAL["platform_any"] - fixed_any, inv[free].astype(np.float64), caps=inv[free]
    )
    sinaloa_share = rng.uniform(0.5, 0.8, size=len(divs))
    plans: list[DivisionPlan] = []
    for i, d in enumerate(divs):
        n = int(inv[i])
        if d in FIXED_CARTELS:
            cartels = dict(FIXED_CARTELS[d])
        else:
            s = round(n * float(sinaloa_share[i]))
            cartels = {"Sinaloa": s, "Jalisco": n - s}
        if d in FIXED_PLATFORMS:
            split = FIXED_PLATFORMS[d]
        else:
            u = int(any_[i])
            both = round(0.3 * u)
            social_only = round(0.3 * u)
            split = PlatformSplit(social_only, u - both - social_only, both)
        plans.append(DivisionPlan(d, n, {q: int(per_q[q][i]) for q in QUANTITIES}, cartels, split))
    return plans


def tiny_plan() -> list[DivisionPlan]:
    """Six investigations in three divisions: small enough to read, big enough to be messy."""
    return [
        DivisionPlan(
            "Rocky Mountain",
            3,
            {
                "arrests": 7,
                "pills": 24_000,
                "powder_g": 1_200,
                "meth_g": _lb(9),
                "cocaine_g": 850,
                "heroin_g": 0,
                "cannabis_g": 4_000,
                "other_g": 0,
                "firearms": 9,
                "currency": 186_500,
            },
            {"Sinaloa": 2, "Jalisco": 1},
            PlatformSplit(1, 0, 1),
        ),
        DivisionPlan(
            "Phoenix",
            2,
            {
                "arrests": 5,
                "pills": 60_000,
                "powder_g": 3_500,
                "meth_g": _lb(40),
                "cocaine_g": 0,
                "heroin_g": 300,
                "cannabis_g": 0,
                "other_g": 0,
                "firearms": 6,
                "currency": 240_000,
            },
            {"Sinaloa": 2, "Jalisco": 0},
            PlatformSplit(0, 1, 0),
        ),
        DivisionPlan(
            "Los Angeles",
            1,
            {
                "arrests": 3,
                "pills": 15_000,
                "powder_g": 900,
                "meth_g": _lb(22),
                "cocaine_g": 2_000,
                "heroin_g": 0,
                "cannabis_g": 0,
                "other_g": 0,
                "firearms": 4,
                "currency": 95_000,
            },
            {"Sinaloa": 0, "Jalisco": 1},
            PlatformSplit(0, 0, 0),
        ),
    ]
