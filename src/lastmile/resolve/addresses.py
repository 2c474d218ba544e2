"""Addresses as the matcher compares them, parsed with usaddress.

An address is reduced to two keys: the *street key* (house number, street name and place,
folded; the street type and unit left out, so "1200 Example St." and "1200 EXAMPLE STREET"
agree) and the *place key* (city and state). An address usaddress cannot parse keeps only what
it can: a text without a house number has no street key.
"""

from __future__ import annotations

from functools import lru_cache

from lastmile.resolve.names import fold


@lru_cache(maxsize=200_000)
def address_keys(text: str) -> tuple[str, str]:
    """(street key, place key) of one address; either may be ''."""
    import usaddress

    try:
        tagged, _ = usaddress.tag(text)
    except usaddress.RepeatedLabelError as exc:
        tagged = {}
        for token, label in exc.parsed_string:
            tagged.setdefault(label, token)
    except Exception:  # a parser failure never loses the record
        tagged = {}
    number = "".join(ch for ch in str(tagged.get("AddressNumber", "")) if ch.isalnum()).lower()
    street = fold(
        " ".join(
            str(tagged.get(k, ""))
            for k in ("StreetNamePreDirectional", "StreetName", "StreetNamePostDirectional")
        )
    )
    city = fold(str(tagged.get("PlaceName", "")))
    state = fold(str(tagged.get("StateName", "")))
    place = f"{city}, {state}" if city else ""
    key = f"{number} {street} | {place}" if number and street else ""
    return key, place


def keys_of(addresses: str | None) -> tuple[list[str], list[str]]:
    """The street and place keys of a ``|``-separated list of addresses."""
    streets: set[str] = set()
    places: set[str] = set()
    for a in (addresses or "").split("|"):
        if a.strip():
            s, p = address_keys(a.strip())
            if s:
                streets.add(s)
            if p:
                places.add(p)
    return sorted(streets), sorted(places)
