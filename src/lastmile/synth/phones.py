"""Fictional phone numbers and the many ways records write them.

US numbers are always in the 555 exchange: line numbers 0100-0199 (reserved for fiction)
are handed out first in every area code, then the rest of 555-xxxx. Mexican numbers end in
"555xxxx" too, so they look as fictional as the US ones.
Numbers are kept in E.164 (the truth form); ``render`` writes them as case files do.
"""

from __future__ import annotations

import numpy as np

# Order in which line numbers of an area code's 555 exchange are used: the reserved
# fictional block first, then the rest.
_LINE_ORDER = np.concatenate([np.arange(100, 200), np.arange(200, 10000), np.arange(0, 100)])


class PhoneBook:
    """Hands out unique numbers, deterministically, in the order asked."""

    def __init__(self) -> None:
        self._us: dict[str, int] = {}
        self._mx: dict[str, int] = {}

    def us(self, area: str) -> str:
        k = self._us.get(area, 0)
        if k >= len(_LINE_ORDER):
            raise ValueError(f"area code {area}: all 10,000 numbers of its 555 exchange are used")
        self._us[area] = k + 1
        return f"+1{area}555{int(_LINE_ORDER[k]):04d}"

    def free(self, area: str) -> int:
        """US numbers of the area's 555 exchange not handed out yet."""
        return len(_LINE_ORDER) - self._us.get(area, 0)

    def us_many(self, areas: list[str]) -> list[str]:
        return [self.us(a) for a in areas]

    def mx(self, area: str) -> str:
        k = self._mx.get(area, 0)
        self._mx[area] = k + 1
        # Subscriber numbers end in 555xxxx (after a leading 5 for two-digit areas), so
        # the last seven digits of every number, US or Mexican, start with 555.
        lead = "5" if len(area) == 2 else ""
        return f"+52{area}{lead}555{k:04d}"


def national(e164: str) -> tuple[str, str, str]:
    """(country, area, subscriber) of a number this module made."""
    if e164.startswith("+1"):
        return "1", e164[2:5], e164[5:]
    area_len = 2 if e164[3:5] in {"33", "55", "81"} else 3
    return "52", e164[3 : 3 + area_len], e164[3 + area_len :]


def render(e164: str, style: int) -> str:
    """The number as a case file writes it; ``style`` picks one of the common layouts."""
    cc, area, sub = national(e164)
    if cc == "1":
        a, b = sub[:3], sub[3:]
        layouts = (
            f"({area}) {a}-{b}",
            f"{area}.{a}.{b}",
            f"+1 {area} {a} {b}",
            f"1{area}{sub}",
            f"{area}{sub}",
            f"{area}-{a}-{b}",
            e164,
            f"1-{area}-{a}-{b}",
        )
    else:
        if len(area) == 2:
            a, b = sub[:4], sub[4:]
        else:
            a, b = sub[:3], sub[3:]
        layouts = (
            f"+52 {area} {a} {b}",
            f"044 {area} {a} {b}",  # the old domestic mobile prefix
            f"+52 1 {area} {a} {b}",  # the old international mobile "1"
            f"52{area}{sub}",
            f"{area}{sub}",
            f"011 52 {area} {a} {b}",  # dialled from the US
            e164,
            f"({area}) {a} {b}",
        )
    return layouts[style % len(layouts)]


def carrier_digits(e164: str, eleven: bool) -> str:
    """The number as a carrier exports it: digits only, 10 or 11 for US numbers.

    Mexican numbers keep their country code (52 + 10 digits), as US carriers export them.
    """
    if e164.startswith("+1"):
        return e164[1:] if eleven else e164[2:]
    return e164[1:]
