"""Unit conversion and the deadly-dose method."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lastmile.model import Unit
from lastmile.units import DoseMethod, grams_to_lb, lb_figure, round_half_up, to_grams


def test_operation_last_mile_figure() -> None:
    """44 million pills and 6,500 lb of powder: 'nearly 193 million deadly doses'."""
    doses = DoseMethod().doses(44_000_000, to_grams(6_500, Unit.LB))
    assert round(doses / 1e6, 1) == 193.0


def test_rocky_mountain_division_figure() -> None:
    """375,000 pills and 25 lb: 'more than 865,000 deadly doses'."""
    doses = DoseMethod().doses(375_000, to_grams(25, Unit.LB))
    assert 865_000 < doses < 865_800
    assert round(doses, -2) == 865_700


def test_conversions_are_the_exact_legal_definitions() -> None:
    assert to_grams(1, Unit.LB) == 453.59237
    assert to_grams(1, Unit.OZ) == 28.349523125
    assert to_grams(16, Unit.OZ) == pytest.approx(to_grams(1, Unit.LB), rel=1e-15)
    assert to_grams(2.5, Unit.KG) == 2500.0
    with pytest.raises(ValueError, match=r"^a count of pills has no mass$"):
        to_grams(10, Unit.COUNT)


def test_parameters_change_the_result_as_stated() -> None:
    method = DoseMethod(lethal_dose_mg=2.0, pill_lethal_share=1.0, powder_purity=0.5)
    assert method.doses(10, 1.0) == 10 + 1000 * 0.5 / 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lethal_dose_mg": 0}, "lethal_dose_mg must be greater than 0"),
        ({"lethal_dose_mg": -1}, "lethal_dose_mg must be greater than 0"),
        ({"pill_lethal_share": 1.5}, "pill_lethal_share must be between 0 and 1"),
        ({"pill_lethal_share": -0.1}, "pill_lethal_share must be between 0 and 1"),
        ({"powder_purity": -0.1}, "powder_purity must be between 0 and 1"),
        ({"powder_purity": 1.5}, "powder_purity must be between 0 and 1"),
    ],
)
def test_impossible_parameters_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        DoseMethod(**kwargs)


def test_the_bounds_of_the_parameters_are_allowed() -> None:
    DoseMethod(lethal_dose_mg=1e-9, pill_lethal_share=0, powder_purity=0)
    DoseMethod(pill_lethal_share=1, powder_purity=1)


@given(st.floats(min_value=0, max_value=1e9), st.sampled_from([Unit.G, Unit.KG, Unit.OZ, Unit.LB]))
def test_pounds_round_trip(quantity: float, unit: Unit) -> None:
    grams = to_grams(quantity, unit)
    assert to_grams(grams_to_lb(grams), Unit.LB) == pytest.approx(grams, rel=1e-12, abs=1e-9)


@given(st.floats(min_value=0, max_value=1e9), st.floats(min_value=0, max_value=1e7))
def test_doses_are_additive_and_monotone(pills: float, grams: float) -> None:
    m = DoseMethod()
    assert m.doses(pills, grams) == pytest.approx(m.pill_doses(pills) + m.powder_doses(grams))
    assert m.doses(pills + 1, grams) >= m.doses(pills, grams)


def test_the_lethal_dose_divides_the_powder() -> None:
    """Issue 8, item 26: a formula that ignored lethal_dose_mg passed every test at 2 mg."""
    one_gram = 1.0
    assert DoseMethod(lethal_dose_mg=1.0).powder_doses(one_gram) == pytest.approx(113.0)
    assert DoseMethod(lethal_dose_mg=4.0).powder_doses(one_gram) == pytest.approx(28.25)
    assert DoseMethod(lethal_dose_mg=4.0).arithmetic(0, one_gram).powder_doses == 28
    assert DoseMethod(lethal_dose_mg=0.5).doses(10, one_gram) == pytest.approx(6 + 226)


def test_the_published_figures_as_worked_arithmetic() -> None:
    """Issue 8, item 17: the report's arithmetic reproduces on a calculator."""
    a = DoseMethod().arithmetic(44_000_000, to_grams(6_500, Unit.LB))
    assert a.powder_mg == 2_948_350_405  # 6,500 x 453,592.37 mg, to the milligram
    assert a.pill_doses == 26_400_000
    assert a.powder_doses == 166_581_798  # 2,948,350,405 x 0.113 / 2 = 166,581,797.88
    assert a.total == 192_981_798 == a.pill_doses + a.powder_doses
    rm = DoseMethod().arithmetic(375_000, to_grams(25, Unit.LB))
    assert (rm.powder_mg, rm.powder_doses, rm.total) == (11_339_809, 640_699, 865_699)


def test_halves_round_up_as_on_a_calculator() -> None:
    # 5 pills x 0.5 = 2.5 doses -> 3 (round() would give 2); 1 mg x 0.5 / 2 = 0.25 -> 0
    a = DoseMethod(pill_lethal_share=0.5, powder_purity=0.5).arithmetic(5, 0.001)
    assert (a.pill_doses, a.powder_mg, a.powder_doses) == (3, 1, 0)
    assert round_half_up(0.5) == 1.0 and round_half_up(2.675, 2) == 2.68
    assert round_half_up(-1.25, 1) == -1.3
    assert round_half_up(float("inf")) == float("inf")  # nothing to round
    assert lb_figure(to_grams(91_000.05, Unit.LB)) == 91_000.1


@given(
    st.integers(min_value=0, max_value=10**9),
    st.floats(min_value=0, max_value=1e9),
    st.sampled_from([0.5, 1.0, 2.0, 3.0, 0.25]),
    st.floats(min_value=0, max_value=1).map(lambda x: round(x, 3)),
    st.floats(min_value=0.001, max_value=1).map(lambda x: round(x, 4)),
)
def test_worked_arithmetic_reproduces_from_the_printed_figures(
    pills: int, grams: float, lethal: float, share: float, purity: float
) -> None:
    """Whatever the figures, the parts follow from the printed ones, rounded half up once,
    and the total is their sum."""
    from decimal import ROUND_HALF_UP, Decimal

    m = DoseMethod(lethal_dose_mg=lethal, pill_lethal_share=share, powder_purity=purity)
    a = m.arithmetic(pills, grams)

    def calc(x: Decimal) -> int:
        return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))

    assert a.pill_doses == calc(Decimal(pills) * Decimal(repr(share)))
    assert abs(a.powder_mg - grams * 1000) <= 0.5 + grams * 1e-12
    shown = Decimal(a.powder_mg) * Decimal(repr(purity)) / Decimal(repr(lethal))
    assert a.powder_doses == calc(shown)
    assert a.total == a.pill_doses + a.powder_doses
    # rounding the mass to the milligram moves the powder part by at most half a mg's doses
    assert abs(a.total - m.doses(pills, grams)) <= 1 + purity / lethal
