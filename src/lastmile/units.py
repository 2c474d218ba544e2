"""Quantities, exact unit conversion, and the deadly-dose method.

The conversion factors are the exact legal definitions (international yard and pound agreement,
1959), so a pound of powder is the same number of milligrams in every report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lastmile.model import Unit

GRAMS_PER_UNIT: dict[Unit, float] = {
    Unit.G: 1.0,
    Unit.KG: 1000.0,
    Unit.OZ: 28.349523125,
    Unit.LB: 453.59237,
}
GRAMS_PER_LB = GRAMS_PER_UNIT[Unit.LB]


def to_grams(quantity: float, unit: Unit | str) -> float:
    """Mass in grams; raises ValueError for ``count``, which has no mass."""
    u = Unit(unit)
    if u is Unit.COUNT:
        raise ValueError("a count of pills has no mass")
    return quantity * GRAMS_PER_UNIT[u]


def grams_to_lb(grams: float) -> float:
    return grams / GRAMS_PER_LB


def round_half_up(value: float, places: int = 0) -> float:
    """``value`` rounded half away from zero, as people and calculators do (Python's
    ``round`` rounds half to even: ``round(0.5) == 0``). The decimal text of the float is
    rounded, so ``round_half_up(2.675, 2) == 2.68``."""
    try:
        exact = Decimal(repr(float(value)))
        return float(exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
    except InvalidOperation:  # beyond Decimal's precision, or not finite: nothing to round
        return float(value)


def _decimal(value: float) -> Decimal:
    """The decimal a reader sees for ``value`` (its shortest repr), exactly."""
    return Decimal(repr(float(value)))


def lb_figure(grams: float) -> float:
    """Pounds as every output shows them: one decimal (half up). The JSON report carries the
    same figure the Markdown and HTML show (docs/methodology.md, "Numbers")."""
    return round_half_up(grams_to_lb(grams), 1)


@dataclass(frozen=True)
class DoseMethod:
    """How seized fentanyl becomes "potentially deadly doses".

    A potentially lethal dose is ``lethal_dose_mg`` of fentanyl (2 mg, DEA). Each pill counts
    as ``pill_lethal_share`` doses: in 2022 DEA's laboratory found 6 in 10 fentanyl pills held
    a potentially lethal dose. Powder counts its mass times ``powder_purity`` (11.3 %, the
    average purity DEA reported) divided by the lethal dose.
    """

    lethal_dose_mg: float = 2.0
    pill_lethal_share: float = 0.6
    powder_purity: float = 0.113

    def __post_init__(self) -> None:
        if not self.lethal_dose_mg > 0:
            raise ValueError("lethal_dose_mg must be greater than 0")
        if not 0 <= self.pill_lethal_share <= 1:
            raise ValueError("pill_lethal_share must be between 0 and 1")
        if not 0 <= self.powder_purity <= 1:
            raise ValueError("powder_purity must be between 0 and 1")

    def pill_doses(self, pills: float) -> float:
        return pills * self.pill_lethal_share

    def powder_doses(self, powder_grams: float) -> float:
        return powder_grams * 1000.0 * self.powder_purity / self.lethal_dose_mg

    def doses(self, pills: float, powder_grams: float) -> float:
        """Exact (unrounded) doses; the report shows ``arithmetic(...)`` instead."""
        return self.pill_doses(pills) + self.powder_doses(powder_grams)

    def arithmetic(self, pills: float, powder_grams: float) -> DoseArithmetic:
        """The figures the report shows, each rounded once, as stated (so that a reader's
        calculator reproduces them): the powder to whole milligrams, each part to whole
        doses (half up); the total is the sum of the two rounded parts."""
        # In decimal, from the figures as printed (a float product such as 12.5 * 0.6 can
        # land a hair under a half the calculator shows exactly).
        powder_mg = _decimal(round_half_up(powder_grams * 1000.0))
        pill_doses = _decimal(pills) * _decimal(self.pill_lethal_share)
        powder_doses = powder_mg * _decimal(self.powder_purity) / _decimal(self.lethal_dose_mg)
        return DoseArithmetic(
            powder_mg=int(powder_mg),
            pill_doses=int(pill_doses.to_integral_value(rounding=ROUND_HALF_UP)),
            powder_doses=int(powder_doses.to_integral_value(rounding=ROUND_HALF_UP)),
        )

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass(frozen=True)
class DoseArithmetic:
    """The worked dose arithmetic: figures as used, after the stated rounding."""

    powder_mg: int
    pill_doses: int
    powder_doses: int

    @property
    def total(self) -> int:
        return self.pill_doses + self.powder_doses
