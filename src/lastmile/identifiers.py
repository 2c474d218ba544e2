"""Personal identifiers (``subjects.identifiers``): one small normalizer per kind.

A subject record may carry a ``|``-separated list of ``kind:value`` identifiers: ``ssn``,
``fbi``, ``dl`` (``dl:CO-123456789``), ``passport`` (``passport:MX-G12345678``), ``a_number``,
``state_id`` and ``other``. Each is brought to one normalized form so the same identifier
written two ways joins (``docs/selectors.md``, "Identifiers"). A malformed identifier is never
dropped: it keeps its text, is marked invalid with a reason, and is not used to match.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from lastmile.model import STATES


class IdentifierKind(StrEnum):
    SSN = "ssn"
    FBI = "fbi"
    DL = "dl"
    PASSPORT = "passport"
    A_NUMBER = "a_number"
    STATE_ID = "state_id"
    OTHER = "other"


KIND_SYNONYMS: dict[str, IdentifierKind] = {
    "social": IdentifierKind.SSN,
    "social_security": IdentifierKind.SSN,
    "fbi_number": IdentifierKind.FBI,
    "ucn": IdentifierKind.FBI,
    "driver_license": IdentifierKind.DL,
    "drivers_license": IdentifierKind.DL,
    "dln": IdentifierKind.DL,
    "anumber": IdentifierKind.A_NUMBER,
    "alien_number": IdentifierKind.A_NUMBER,
    "a#": IdentifierKind.A_NUMBER,
    "sid": IdentifierKind.STATE_ID,
    "stateid": IdentifierKind.STATE_ID,
}

MAX_LENGTH = 100


@dataclass(frozen=True)
class Identifier:
    kind: str  # an IdentifierKind value, or the kind as written when it is unknown
    value: str  # normalized when valid; else the raw value, stripped
    valid: bool
    reason: str = ""

    @property
    def key(self) -> str:
        """The join key ``kind:value`` (only meaningful when valid)."""
        return f"{self.kind}:{self.value}"


_SEPARATORS = re.compile(r"[\s\-./]+")
_ALNUM = re.compile(r"[A-Z0-9]+")
# Issuer-prefixed numbers: a region code, a separator, the number (dl:CO-123, passport:MX-G1).
_ISSUED = re.compile(r"^([A-Z]{2,3})[\s\-:/]+([A-Z0-9][A-Z0-9\s\-.]*)$")


def _clean(raw: str) -> str:
    text = "".join(ch for ch in raw if unicodedata.category(ch) != "Cf")
    return unicodedata.normalize("NFKC", text).strip()


def _bad(kind: str, raw: str, reason: str) -> Identifier:
    return Identifier(kind, raw, False, reason)


def _ssn(raw: str) -> Identifier:
    digits = _SEPARATORS.sub("", raw)
    if not digits.isdigit() or len(digits) != 9:
        return _bad("ssn", raw, "an SSN has 9 digits")
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    # Areas 9xx are ITINs (taxpayer numbers the IRS issues to people without an SSN); case
    # files write them in the SSN field, and they name one person as well: kept valid.
    if area in ("000", "666") or group == "00" or serial == "0000":
        return _bad("ssn", raw, "not an SSN the Social Security Administration issues")
    if len(set(digits)) == 1:
        return _bad("ssn", raw, "a placeholder SSN")
    return Identifier("ssn", f"{area}-{group}-{serial}", True)


def _fbi(raw: str) -> Identifier:
    value = _SEPARATORS.sub("", raw.upper())
    if not _ALNUM.fullmatch(value) or not 1 <= len(value) <= 9:
        return _bad("fbi", raw, "an FBI number has 1 to 9 letters and digits")
    return Identifier("fbi", value, True)


def _issued(
    kind: IdentifierKind, raw: str, issuers: frozenset[str] | None, what: str
) -> Identifier:
    match = _ISSUED.match(raw.upper())
    if not match:
        return _bad(kind.value, raw, f"{what} is written ISSUER-NUMBER, such as CO-123456789")
    issuer, number = match.group(1), _SEPARATORS.sub("", match.group(2))
    if issuers is not None and issuer not in issuers:
        return _bad(kind.value, raw, f"{issuer!r} is not a US state or territory code")
    if not _ALNUM.fullmatch(number) or not 4 <= len(number) <= 20:
        return _bad(kind.value, raw, f"{what} number has 4 to 20 letters and digits")
    if len(set(number)) == 1:
        return _bad(kind.value, raw, f"a placeholder {what} number")
    return Identifier(kind.value, f"{issuer}-{number}", True)


def _a_number(raw: str) -> Identifier:
    value = _SEPARATORS.sub("", raw.upper())
    value = value.removeprefix("A")
    if not value.isdigit() or not 7 <= len(value) <= 9:
        return _bad("a_number", raw, "an A-number is A followed by 7 to 9 digits")
    if int(value) == 0:
        return _bad("a_number", raw, "a placeholder A-number")
    return Identifier("a_number", "A" + value.zfill(9), True)


def _other(raw: str) -> Identifier:
    value = " ".join(raw.upper().split())
    return Identifier("other", value, True)


_US = frozenset(STATES)


def normalize_identifier(kind: str, value: str) -> Identifier:
    """One identifier; never raises. An unknown kind is kept, invalid, with its reason."""
    raw = _clean(value) if isinstance(value, str) else ""
    written = " ".join((kind or "").split()).lower().replace(" ", "_").replace("-", "_")
    try:
        k = IdentifierKind(written)
    except ValueError:
        k_syn = KIND_SYNONYMS.get(written)
        if k_syn is None:
            return _bad(written or "?", raw, f"unknown identifier kind {written!r}")
        k = k_syn
    if not raw:
        return _bad(k.value, raw, "empty value")
    if len(raw) > MAX_LENGTH:
        return _bad(k.value, raw[:MAX_LENGTH], "too long for an identifier")
    if k is IdentifierKind.SSN:
        return _ssn(raw)
    if k is IdentifierKind.FBI:
        return _fbi(raw)
    if k is IdentifierKind.DL:
        return _issued(k, raw, _US, "a driver's licence")
    if k is IdentifierKind.STATE_ID:
        return _issued(k, raw, _US, "a state id")
    if k is IdentifierKind.PASSPORT:
        # Any issuing country (ISO 3166 alpha-2 or alpha-3), not only the US.
        return _issued(k, raw, None, "a passport")
    if k is IdentifierKind.A_NUMBER:
        return _a_number(raw)
    return _other(raw)


def parse_identifiers(text: str | None) -> list[Identifier]:
    """Every identifier of a ``|``-separated ``kind:value`` list, in order; a part without a
    kind is kept as an invalid ``?`` identifier."""
    out: list[Identifier] = []
    for part in (text or "").split("|"):
        part = part.strip()
        if not part:
            continue
        kind, sep, value = part.partition(":")
        if not sep:
            out.append(_bad("?", _clean(part), "written without a kind (kind:value)"))
            continue
        out.append(normalize_identifier(kind, value))
    return out
