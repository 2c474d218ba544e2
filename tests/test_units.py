"""Unit conversion and the deadly-dose method."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lastmile.model import Unit
from lastmile.units import DoseMethod, grams_to_lb, to_grams


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
    with pytest.raises(ValueError, match="no mass"):
        to_grams(10, Unit.COUNT)


def test_parameters_change_the_result_as_stated() -> None:
    method = DoseMethod(lethal_dose_mg=2.0, pill_lethal_share=1.0, powder_purity=0.5)
    assert method.doses(10, 1.0) == 10 + 1000 * 0.5 / 2


@pytest.mark.parametrize(
    "kwargs", [{"lethal_dose_mg": 0}, {"pill_lethal_share": 1.5}, {"powder_purity": -0.1}]
)
def test_impossible_parameters_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DoseMethod(**kwargs)


@given(st.floats(min_value=0, max_value=1e9), st.sampled_from([Unit.G, Unit.KG, Unit.OZ, Unit.LB]))
def test_pounds_round_trip(quantity: float, unit: Unit) -> None:
    grams = to_grams(quantity, unit)
    assert to_grams(grams_to_lb(grams), Unit.LB) == pytest.approx(grams, rel=1e-12, abs=1e-9)


@given(st.floats(min_value=0, max_value=1e9), st.floats(min_value=0, max_value=1e7))
def test_doses_are_additive_and_monotone(pills: float, grams: float) -> None:
    m = DoseMethod()
    assert m.doses(pills, grams) == pytest.approx(m.pill_doses(pills) + m.powder_doses(grams))
    assert m.doses(pills + 1, grams) >= m.doses(pills, grams)
