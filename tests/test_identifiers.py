"""Personal identifiers: one normalized form per kind, malformed ones kept and flagged."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lastmile.identifiers import normalize_identifier, parse_identifiers


def test_each_kind_has_one_normalized_form() -> None:
    assert normalize_identifier("ssn", "123 45 6789").value == "123-45-6789"
    assert normalize_identifier("SSN", "123456789").value == "123-45-6789"
    assert normalize_identifier("dl", "co 1234-56789").value == "CO-123456789"
    assert normalize_identifier("passport", "mx-g12345678").value == "MX-G12345678"
    assert normalize_identifier("a_number", "a-012-345-678").value == "A012345678"
    assert normalize_identifier("a_number", "12345678").value == "A012345678"
    assert normalize_identifier("fbi", "12-34ab-c").value == "1234ABC"
    assert normalize_identifier("state_id", "TX-00012345").value == "TX-00012345"


def test_malformed_identifiers_are_kept_and_flagged() -> None:
    bad = normalize_identifier("ssn", "000-12-3456")
    assert (bad.valid, bad.value) == (False, "000-12-3456")
    assert "SSN" in bad.reason
    assert not normalize_identifier("dl", "ZZ-123456").valid  # not a state
    assert not normalize_identifier("ssn", "12345").valid
    unknown = normalize_identifier("tax", "99")
    assert (unknown.valid, unknown.kind) == (False, "tax")
    parsed = parse_identifiers("ssn:123-45-6789| nonsense |dl:CO-1")
    assert [i.valid for i in parsed] == [True, False, False]
    assert parsed[1].value == "nonsense"


@given(st.text(max_size=40), st.sampled_from(["ssn", "fbi", "dl", "passport", "a_number", "x"]))
def test_normalizing_never_raises_and_is_idempotent(value: str, kind: str) -> None:
    first = normalize_identifier(kind, value)
    if first.valid:
        again = normalize_identifier(first.kind, first.value)
        assert (again.valid, again.value) == (True, first.value)
    else:
        assert first.reason


@given(st.lists(st.text(alphabet="ab:|- 19", max_size=12), max_size=6))
def test_no_written_identifier_is_lost(parts: list[str]) -> None:
    text = "|".join(parts)
    kept = [p for p in text.split("|") if p.strip()]
    assert len(parse_identifiers(text)) == len(kept)
