"""Selectors: one small normalizer per kind.

A selector is a phone, email, app account, device, vehicle, wallet or address. Investigations
write them every way there is; this module brings each to one normalized form so that the same
selector seen by two agencies joins on the same key (``selector_key``). The habit is
followthemoney's ``types/phone.py``: each kind cleans, validates and explains.

Nothing is ever dropped: an invalid value comes back with ``valid=False``, the raw value
(stripped of surrounding whitespace) and a one-sentence reason. The rules, with examples, are in
``docs/selectors.md``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from urllib.parse import parse_qs, unquote, urlsplit

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat

from lastmile.model import PLATFORM_SYNONYMS, STATES, Platform, SelectorKind

__all__ = [
    "Normalized",
    "guess_kind",
    "normalize",
    "normalize_many",
    "platform_from_url",
    "resolve_platform",
    "selector_key",
]


@dataclass(frozen=True, slots=True)
class Normalized:
    value: str  # the normalized form; when invalid, the raw value stripped of whitespace
    valid: bool
    reason: str  # '' when valid; otherwise one short sentence


def _ok(value: str) -> Normalized:
    return Normalized(value, True, "")


def _bad(raw: str, reason: str) -> Normalized:
    return Normalized(raw, False, reason)


# --------------------------------------------------------------------------------------------
# Text cleaning shared by every kind
# --------------------------------------------------------------------------------------------

# Exports wrap values in invisible format characters (bidi marks, zero-width spaces, BOMs).
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def _clean(raw: str) -> str:
    """NFKC (full-width digits become ASCII), invisible characters removed, stripped."""
    return unicodedata.normalize("NFKC", _INVISIBLE.sub("", raw)).strip()


def _a(name: str) -> str:
    """'a TikTok', 'an Instagram'."""
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def _as_text(raw: object) -> str:
    if isinstance(raw, str):
        return raw
    return "" if raw is None else str(raw)


# --------------------------------------------------------------------------------------------
# Platforms
# --------------------------------------------------------------------------------------------

_PLATFORM_BY_NAME: dict[str, Platform] = {
    **{p.value.lower(): p for p in Platform},
    **{p.value.lower().replace(" ", ""): p for p in Platform},
    **PLATFORM_SYNONYMS,
}


def resolve_platform(name: str | None) -> Platform | None:
    """The platform a spelling names (case-insensitive, with the model's synonyms), or None."""
    if not name:
        return None
    key = " ".join(name.split()).lower()
    return _PLATFORM_BY_NAME.get(key) or _PLATFORM_BY_NAME.get(key.replace(" ", ""))


def _platform_slug(platform: str | None) -> str:
    resolved = resolve_platform(platform)
    if resolved is not None:
        return str(resolved).lower().replace(" ", "")
    return "".join((platform or "").split()).lower()


# Accounts on these are phone numbers.
_PHONE_PLATFORMS = frozenset({Platform.WHATSAPP, Platform.SIGNAL})
# Accounts on these are often written as the phone number they are registered to.
_PHONE_CAPABLE = frozenset(
    {
        Platform.TELEGRAM,
        Platform.VIBER,
        Platform.IMESSAGE,
        Platform.ZELLE,
        Platform.CASHAPP,
        Platform.VENMO,
        Platform.PAYPAL,
        Platform.WECHAT,
    }
)
# A URL of one of these may stand for an account on the other (shared accounts).
_COMPATIBLE: dict[Platform, frozenset[Platform]] = {
    Platform.FACEBOOK: frozenset({Platform.MESSENGER}),
    Platform.MESSENGER: frozenset({Platform.FACEBOOK}),
    Platform.INSTAGRAM: frozenset({Platform.THREADS}),
    Platform.THREADS: frozenset({Platform.INSTAGRAM}),
}

_HOSTS: dict[str, Platform] = {
    "instagram.com": Platform.INSTAGRAM,
    "instagr.am": Platform.INSTAGRAM,
    "tiktok.com": Platform.TIKTOK,
    "facebook.com": Platform.FACEBOOK,
    "fb.com": Platform.FACEBOOK,
    "messenger.com": Platform.MESSENGER,
    "m.me": Platform.MESSENGER,
    "snapchat.com": Platform.SNAPCHAT,
    "t.me": Platform.TELEGRAM,
    "telegram.me": Platform.TELEGRAM,
    "twitter.com": Platform.X,
    "x.com": Platform.X,
    "threads.net": Platform.THREADS,
    "threads.com": Platform.THREADS,
    "youtube.com": Platform.YOUTUBE,
    "reddit.com": Platform.REDDIT,
    "wa.me": Platform.WHATSAPP,
    "whatsapp.com": Platform.WHATSAPP,
    "signal.me": Platform.SIGNAL,
    "cash.app": Platform.CASHAPP,
    "venmo.com": Platform.VENMO,
    "paypal.me": Platform.PAYPAL,
    "paypal.com": Platform.PAYPAL,
    "kik.me": Platform.KIK,
}
# Path segments that come before the handle, per platform.
_PATH_PREFIXES: dict[Platform, frozenset[str]] = {
    Platform.SNAPCHAT: frozenset({"add"}),
    Platform.TELEGRAM: frozenset({"s"}),
    Platform.INSTAGRAM: frozenset({"stories"}),
    Platform.REDDIT: frozenset({"u", "user"}),
    Platform.VENMO: frozenset({"u"}),
    Platform.PAYPAL: frozenset({"paypalme"}),
    Platform.MESSENGER: frozenset({"t"}),
    Platform.YOUTUBE: frozenset({"c", "user"}),
}
# Path segments that show a URL is a post or a page, not a profile.
_NOT_PROFILE: dict[Platform, frozenset[str]] = {
    Platform.INSTAGRAM: frozenset({"p", "reel", "reels", "explore", "tv", "accounts"}),
    Platform.THREADS: frozenset({"t", "search"}),
    Platform.TIKTOK: frozenset({"t", "video", "tag", "discover", "music"}),
    Platform.FACEBOOK: frozenset({"groups", "events", "pages", "watch", "share", "story.php"}),
    Platform.X: frozenset({"i", "home", "search", "hashtag", "intent", "share"}),
    Platform.YOUTUBE: frozenset({"watch", "channel", "shorts", "playlist", "results"}),
    Platform.REDDIT: frozenset({"r"}),
}

_URL_START = re.compile(
    r"^(?:https?://)?(?:www\.|m\.|mobile\.|web\.)?([a-z0-9.-]+\.[a-z]{2,})(?=[/?#]|$)", re.I
)


def _host_platform(host: str) -> Platform | None:
    host = host.lower().rstrip(".")
    while host:
        if host in _HOSTS:
            return _HOSTS[host]
        _, _, host = host.partition(".")
    return None


@dataclass(frozen=True, slots=True)
class _Profile:
    platform: Platform | None  # None: a URL of an unknown site
    handle: str  # '' when the URL names no account
    reason: str = ""


def _parse_profile_url(text: str) -> _Profile | None:
    """The platform and handle of a profile URL, or None when ``text`` is not a URL.

    A value counts as a URL when it has a scheme, or when it starts with a known host followed
    by '/', '?' or '#' (``instagram.com/el.guero``); a bare handle like ``el.guero`` never does.
    """
    has_scheme = bool(re.match(r"^[a-z][a-z0-9+.-]*://", text, re.I))
    m = _URL_START.match(text)
    if m is None:
        return _Profile(None, "", "not a URL of a known platform") if has_scheme else None
    platform = _host_platform(m.group(1))
    if platform is None:
        return _Profile(None, "", "not a URL of a known platform") if has_scheme else None
    if not has_scheme and len(text) == m.end():
        return None  # "x.com" alone is a (strange) handle, not a URL
    try:
        parts = urlsplit(text if has_scheme else "https://" + text)
    except ValueError:
        return _Profile(platform, "", "not a valid URL")
    segments = [unquote(s) for s in parts.path.split("/") if s]
    query = parse_qs(parts.query)
    handle = ""
    if platform is Platform.FACEBOOK and segments[:1] == ["profile.php"]:
        handle = (query.get("id") or [""])[0]
    elif platform is Platform.FACEBOOK and segments[:1] == ["people"] and len(segments) >= 3:
        handle = segments[2]
    elif platform is Platform.WHATSAPP and (not segments or segments[:1] == ["send"]):
        handle = (query.get("phone") or [""])[0]
        handle = "+" + handle.lstrip("+") if handle else ""
    elif platform is Platform.SIGNAL:
        fragment = unquote(parts.fragment)
        handle = fragment[2:] if fragment.startswith("p/") else ""
    else:
        prefixes = _PATH_PREFIXES.get(platform, frozenset())
        while segments and segments[0].lower() in prefixes:
            segments = segments[1:]
        if segments and segments[0].lower() in _NOT_PROFILE.get(platform, frozenset()):
            return _Profile(platform, "", f"{_a(platform.value)} URL that is not a profile")
        if segments:
            handle = segments[0]
            if platform is Platform.WHATSAPP:
                handle = "+" + handle.lstrip("+")
    if not handle:
        return _Profile(platform, "", f"{_a(platform.value)} URL that names no account")
    return _Profile(platform, handle)


def platform_from_url(raw: str) -> Platform | None:
    """The platform of a profile URL (``https://t.me/x`` -> Telegram), else None."""
    profile = _parse_profile_url(_clean(_as_text(raw)))
    return None if profile is None else profile.platform


# --------------------------------------------------------------------------------------------
# Phone
# --------------------------------------------------------------------------------------------

# Rule: a number is valid when phonenumbers finds it IS_POSSIBLE (its length fits the country
# code, and it is not a local-only number missing an area code) and, for the North American
# plan (+1), it is structurally NXX-NXX-XXXX (area code and exchange start with 2-9).
# phonenumbers' is_valid_number is not used: it rejects numbers in unassigned ranges, such as
# +1 555 555 0100 (area code 555), which test data and fictional case files use.

_NANP_FAST = re.compile(r"(?:\+?1)?([2-9]\d{2}[2-9]\d{6})")
_NANP_FORMATTING = str.maketrans("", "", " ()-.\u00a0/")
_NANP_STRUCTURE = re.compile(r"[2-9]\d{2}[2-9]\d{6}")
_DIGITS = re.compile(r"\d+")
_PHONE_LIKE = re.compile(
    r"(?:tel:)?\+?[\d\s().\-/]*\d[\d\s().\-/]*(?:\s*(?:ext\.?|extension|x|#)\s*\d{1,6})?", re.I
)


@cache
def _region_code(region: str) -> int:
    return phonenumbers.country_code_for_region(region)


def _mexico_current(n: PhoneNumber) -> PhoneNumber:
    """Mexico's 2019 plan: '+52 1 33 ...' (old mobile '1') and 044/045 become +52 + 10 digits."""
    if n.country_code != 52:
        return n
    national = phonenumbers.national_significant_number(n)
    if len(national) == 11 and national.startswith("1"):
        national = national[1:]
    elif len(national) == 13 and national[:3] in ("044", "045"):
        national = national[3:]
    else:
        return n
    return PhoneNumber(country_code=52, national_number=int(national))


def _acceptable(n: PhoneNumber) -> bool:
    reason = phonenumbers.is_possible_number_with_reason(n)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        return False
    if n.country_code == 1:
        return _NANP_STRUCTURE.fullmatch(phonenumbers.national_significant_number(n)) is not None
    return True


def _parse_phone(text: str, region: str) -> PhoneNumber | None:
    try:
        n = _mexico_current(phonenumbers.parse(text, region))
    except NumberParseException:
        return None
    return n if _acceptable(n) else None


def _phone_candidates(text: str, region: str) -> list[tuple[str, bool]]:
    """Other readings of a number phonenumbers does not take as written: (text, strict)."""
    out: list[tuple[str, bool]] = []
    if text.startswith("+"):
        return out
    digits = "".join(_DIGITS.findall(re.split(r"[a-z#]", text.lower())[0]))
    # "00" is the ITU international prefix; the US one (011) phonenumbers already knows.
    if digits.startswith("00") and len(digits) > 9:
        out.append(("+" + digits[2:], False))
    # Mexico's retired mobile prefixes 044 (local) and 045 (long distance), and "01".
    if len(digits) == 13 and digits[:3] in ("044", "045"):
        out.append(("+52" + digits[3:], False))
    if region == "MX" and len(digits) == 12 and digits.startswith("01"):
        out.append(("+52" + digits[2:], False))
    # A full international number written without "+" ("523312345678", as WhatsApp writes
    # them): accepted only when phonenumbers finds it valid, not merely possible.
    if 11 <= len(digits) <= 15 and re.fullmatch(r"[\d\s().\-/]+", text):
        out.append(("+" + digits, True))
    return out


def _normalize_phone(raw: str, region: str) -> Normalized:
    text = _clean(raw)
    stripped = raw.strip()
    if not text:
        return _bad(stripped, "empty value")
    region = region.strip().upper() or "US"
    # Fast path: a North American number with only formatting characters.
    m = _NANP_FAST.fullmatch(text.translate(_NANP_FORMATTING))
    if m is not None and (text.startswith("+1") or (text[0] != "+" and _region_code(region) == 1)):
        return _ok("+1" + m.group(1))
    n = _parse_phone(text, region)
    if n is None:
        for candidate, strict in _phone_candidates(text, region):
            n = _parse_phone(candidate, region)
            if n is not None and (not strict or phonenumbers.is_valid_number(n)):
                break
            n = None
    if n is None:
        return _bad(stripped, f"not a valid phone number for region {region}")
    return _ok(phonenumbers.format_number(n, PhoneNumberFormat.E164))


# --------------------------------------------------------------------------------------------
# Email
# --------------------------------------------------------------------------------------------

_GMAIL = frozenset({"gmail.com", "googlemail.com"})
# Providers that deliver "local+tag@domain" to "local@domain".
_PLUS_TAG_PROVIDERS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "protonmail.com",
        "protonmail.ch",
        "proton.me",
        "pm.me",
    }
)
_EMAIL_LIKE = re.compile(r"(?:mailto:)?<?[^@\s]+@[^@\s]+\.[^@\s.]+>?", re.I)


def _email_like(text: str) -> bool:
    return len(text) <= 330 and not text.startswith("@") and _EMAIL_LIKE.fullmatch(text) is not None


def _phone_like(text: str) -> bool:
    return len(text) <= 64 and _PHONE_LIKE.fullmatch(text) is not None


def _normalize_email(raw: str) -> Normalized:
    text = _clean(raw)
    stripped = raw.strip()
    if not text:
        return _bad(stripped, "empty value")
    text = text.lower()
    if text.startswith("mailto:"):
        text = text[len("mailto:") :].split("?")[0]
    if text.startswith("<") and text.endswith(">"):
        text = text[1:-1].strip()
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as e:
        return _bad(stripped, f"not a valid email address: {_first_sentence(str(e))}")
    written, domain = result.local_part.lower(), result.domain.lower()
    local = written
    if domain in _PLUS_TAG_PROVIDERS and "+" in local:
        local = local.split("+", 1)[0] or local
    if domain in _GMAIL:
        local = local.replace(".", "") or local
        domain = "gmail.com"  # one Google account, either domain
    if local.endswith("."):
        # "a.+x@outlook.com" would leave "a.", which is no address (a dot may not end the
        # local part; a prefix of a valid one is otherwise valid): kept as written, so that
        # normalizing the normalized value gives it back.
        local = written
    return _ok(f"{local}@{domain}")


def _first_sentence(message: str) -> str:
    first = message.split(". ")[0].rstrip(".")
    return first[:1].lower() + first[1:]


# --------------------------------------------------------------------------------------------
# Account (a handle on a platform)
# --------------------------------------------------------------------------------------------

_INSTAGRAM = (re.compile(r"[a-z0-9._]{1,30}"), "letters, digits, '.' and '_', at most 30")
_FACEBOOK = (re.compile(r"[a-z0-9.]{1,50}"), "letters, digits and '.', or a numeric id")
_HANDLE_RULES: dict[Platform, tuple[re.Pattern[str], str]] = {
    Platform.INSTAGRAM: _INSTAGRAM,
    Platform.THREADS: _INSTAGRAM,
    Platform.TIKTOK: (re.compile(r"[a-z0-9._]{1,24}"), "letters, digits, '.' and '_', at most 24"),
    Platform.SNAPCHAT: (
        re.compile(r"[a-z0-9._-]{3,15}"),
        "3 to 15 letters, digits, '-', '_' and '.'",
    ),
    Platform.TELEGRAM: (
        re.compile(r"[a-z][a-z0-9_]{4,31}"),
        "5 to 32 letters, digits and '_', starting with a letter",
    ),
    Platform.X: (re.compile(r"[a-z0-9_]{1,15}"), "letters, digits and '_', at most 15"),
    Platform.FACEBOOK: _FACEBOOK,
    Platform.MESSENGER: _FACEBOOK,
}
# Everything else: 1 to 100 characters, no whitespace, no '/', '?', '#', '@', no leading '+'.
_PERMISSIVE = (
    re.compile(r"[^\s/\\?#@+][^\s/\\?#@]{0,99}"),
    "1 to 100 characters without spaces, '/', '?', '#' or '@'",
)
# Signal usernames (2024): a nickname, a dot and at least two digits.
_SIGNAL_USERNAME = re.compile(r"[a-z_][a-z0-9_]{2,31}\.\d{2,10}")
_WHATSAPP_JID = re.compile(r"@(?:s\.whatsapp\.net|c\.us)$", re.I)


def _normalize_account(raw: str, platform: str | None, region: str) -> Normalized:
    text = _clean(raw)
    stripped = raw.strip()
    if not text:
        return _bad(stripped, "empty value")
    resolved = resolve_platform(platform)
    profile = _parse_profile_url(text)
    if profile is not None:
        if profile.reason:
            return _bad(stripped, profile.reason)
        url_platform = profile.platform
        if (
            resolved is not None
            and url_platform is not None
            and url_platform is not resolved
            and url_platform not in _COMPATIBLE.get(resolved, frozenset())
        ):
            return _bad(stripped, f"{_a(url_platform.value)} URL, not {_a(resolved.value)} account")
        resolved = resolved or url_platform
        text = profile.handle.strip()
    name = resolved.value if resolved is not None else (platform or "").strip() or "account"

    if resolved in _PHONE_PLATFORMS:
        text = _WHATSAPP_JID.sub("", text)
        if resolved is Platform.SIGNAL and _SIGNAL_USERNAME.fullmatch(text.lower().lstrip("@")):
            return _ok(text.lower().lstrip("@"))
        phone = _normalize_phone(text, region)
        if phone.valid:
            return phone
        return _bad(stripped, f"{_a(name)} account is a phone number; {phone.reason}")

    if _email_like(text):
        email = _normalize_email(text)
        return email if email.valid else _bad(stripped, email.reason)

    phone_like = _phone_like(text)
    if phone_like and (text.startswith("+") or resolved in _PHONE_CAPABLE):
        phone = _normalize_phone(text, region)
        if phone.valid:
            return phone

    handle = text.lstrip("@").lower()
    if resolved is Platform.CASHAPP:
        handle = handle.lstrip("$")
    pattern, rule = _HANDLE_RULES.get(resolved, _PERMISSIVE) if resolved else _PERMISSIVE
    if not handle:
        return _bad(stripped, f"no {name} account name")
    if pattern.fullmatch(handle) is None:
        # Not a handle, but a phone number ("303-555-0187" on Instagram): keep it as the phone.
        if phone_like and (phone := _normalize_phone(text, region)).valid:
            return phone
        return _bad(stripped, f"not a valid {name} account ({rule})")
    return _ok(handle)


# --------------------------------------------------------------------------------------------
# IMEI
# --------------------------------------------------------------------------------------------

_IMEI_LABEL = re.compile(r"^imei\s*[:#]?\s*", re.I)
_IMEI_SEPARATORS = re.compile(r"[\s\-./]")


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit to append to ``digits`` (all ASCII digits)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 0:  # doubled: the rightmost digit of the payload, then every other
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _normalize_imei(raw: str) -> Normalized:
    text = _clean(raw)
    stripped = raw.strip()
    if not text:
        return _bad(stripped, "empty value")
    digits = _IMEI_SEPARATORS.sub("", _IMEI_LABEL.sub("", text))
    if not (digits.isascii() and digits.isdigit()):
        return _bad(stripped, "an IMEI has only digits")
    if len(digits) == 14:
        digits += luhn_check_digit(digits)
    elif len(digits) != 15:
        return _bad(
            stripped, f"an IMEI has 15 digits (or 14 without the check digit), not {len(digits)}"
        )
    if int(digits) == 0:
        return _bad(stripped, "an all-zero IMEI is a placeholder")
    if luhn_check_digit(digits[:14]) != digits[14]:
        return _bad(
            stripped, f"IMEI check digit is {digits[14]}, expected {luhn_check_digit(digits[:14])}"
        )
    return _ok(digits)


# --------------------------------------------------------------------------------------------
# Plate
# --------------------------------------------------------------------------------------------

_STATES = frozenset(STATES)
_PLATE = re.compile(r"[A-Z0-9]{1,8}")
_PLATE_SEPARATORS = re.compile(r"[\s\-.·]")
_PLATE_FORMS: tuple[tuple[re.Pattern[str], int, int, bool], ...] = (
    # (pattern, group of the state, group of the plate, state must be a USPS code)
    (re.compile(r"([A-Z]{2,3})\s*:\s*(.+)"), 1, 2, False),  # CO:ABC 123
    (re.compile(r"(.+?)\s*[(\[]\s*([A-Z]{2,3})\s*[)\]]"), 2, 1, False),  # ABC123 (CO)
    (re.compile(r"(.+?)\s*,\s*([A-Z]{2})"), 2, 1, True),  # ABC-123, CO
    (re.compile(r"([A-Z]{2})\s+(.+)"), 1, 2, True),  # CO ABC-123
)


def _normalize_plate(raw: str) -> Normalized:
    text = " ".join(_clean(raw).upper().split())
    stripped = raw.strip()
    if not text:
        return _bad(stripped, "empty value")
    state, plate = "", text
    for pattern, state_group, plate_group, usps in _PLATE_FORMS:
        m = pattern.fullmatch(text)
        if m is not None and (not usps or m.group(state_group) in _STATES):
            state, plate = m.group(state_group), m.group(plate_group)
            break
    plate = _PLATE_SEPARATORS.sub("", plate)
    if _PLATE.fullmatch(plate) is None:
        return _bad(stripped, "a plate has 1 to 8 letters and digits")
    return _ok(f"{state}:{plate}" if state else plate)


# --------------------------------------------------------------------------------------------
# VIN
# --------------------------------------------------------------------------------------------

_VIN_CHARS = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


def vin_check_digit(vin: str) -> str:
    """The check digit (position 9) of a 17-character VIN, per 49 CFR 565."""
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    r = total % 11
    return "X" if r == 10 else str(r)


def _normalize_vin(raw: str) -> Normalized:
    text = re.sub(r"[\s\-]", "", _clean(raw).upper())
    stripped = raw.strip()
    if not text:
        return _bad(stripped, "empty value")
    if len(text) != 17:
        return _bad(stripped, f"a VIN has 17 characters, not {len(text)}")
    if _VIN_CHARS.fullmatch(text) is None:
        return _bad(stripped, "a VIN has only letters (no I, O or Q) and digits")
    # North America (WMI 1-5) requires the check digit.
    if text[0] in "12345" and text[8] != (expected := vin_check_digit(text)):
        return _bad(stripped, f"VIN check digit is {text[8]}, expected {expected}")
    return _ok(text)


# --------------------------------------------------------------------------------------------
# Crypto wallet
# --------------------------------------------------------------------------------------------

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}
_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_INDEX = {c: i for i, c in enumerate(_BECH32_CHARSET)}
_BECH32_CONST, _BECH32M_CONST = 1, 0x2BC830A3


def _b58check_payload(text: str) -> bytes | None:
    """The payload (version byte and hash) of a Base58Check string, or None if it fails."""
    n = 0
    for c in text:
        i = _B58_INDEX.get(c)
        if i is None:
            return None
        n = n * 58 + i
    body = n.to_bytes((n.bit_length() + 7) // 8)  # big-endian, the default
    data = b"\x00" * (len(text) - len(text.lstrip("1"))) + body
    if len(data) < 5:
        return None
    payload, checksum = data[:-4], data[-4:]
    if hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        return None
    return payload


def _bech32_polymod(values: Iterable[int]) -> int:
    gen = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (top >> i) & 1 else 0
    return chk


def _segwit_ok(address: str) -> bool:
    """A bc1 address (lower case) with a valid bech32 (v0) or bech32m (v1+) checksum."""
    hrp, _, data_part = address.rpartition("1")
    if hrp != "bc" or len(data_part) < 7 or not 14 <= len(address) <= 90:
        return False
    data = [_BECH32_INDEX.get(c, -1) for c in data_part]
    if -1 in data:
        return False
    hrp_expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    const = _bech32_polymod(hrp_expanded + data)
    version = data[0]
    if version > 16 or const != (_BECH32_CONST if version == 0 else _BECH32M_CONST):
        return False
    program_bits = (len(data) - 7) * 5  # without version and the 6-character checksum
    program_len = program_bits // 8
    if program_bits % 8 >= 5 or not 2 <= program_len <= 40:
        return False
    return version != 0 or program_len in (20, 32)


def _normalize_wallet(raw: str) -> Normalized:
    text = _clean(raw)
    stripped = raw.strip()
    if not text:
        return _bad(stripped, "empty value")
    text = re.sub(r"^(?:bitcoin|ethereum|tron):", "", text, flags=re.I).split("?")[0].strip()
    lower = text.lower()
    if re.fullmatch(r"0x[0-9a-f]{40}", lower):
        return _ok(lower)  # Ethereum (and EVM chains); EIP-55 mixed case is not checked
    if lower.startswith("bc1"):
        if text not in (lower, text.upper()):
            return _bad(stripped, "a bech32 address is all lower or all upper case")
        if _segwit_ok(lower):
            return _ok(lower)
        return _bad(stripped, "not a valid bech32 bitcoin address (checksum)")
    if re.fullmatch(r"[13][1-9A-HJ-NP-Za-km-z]{25,34}", text):
        payload = _b58check_payload(text)
        if payload is not None and len(payload) == 21 and payload[0] in (0x00, 0x05):
            return _ok(text)
        return _bad(stripped, "not a valid bitcoin address (Base58Check checksum)")
    if re.fullmatch(r"T[1-9A-HJ-NP-Za-km-z]{33}", text):
        payload = _b58check_payload(text)
        if payload is not None and len(payload) == 21 and payload[0] == 0x41:
            return _ok(text)
        return _bad(stripped, "not a valid Tron address (Base58Check checksum)")
    return _bad(stripped, "not a bitcoin, ethereum or tron address")


# --------------------------------------------------------------------------------------------
# IP address
# --------------------------------------------------------------------------------------------


def _normalize_ip(raw: str) -> Normalized:
    text = _clean(raw)
    stripped = raw.strip()
    if not text:
        return _bad(stripped, "empty value")
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1 and "." in text:  # 203.0.113.7:443
        text = text.split(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return _bad(stripped, "not an IPv4 or IPv6 address")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return _ok(str(ip.ipv4_mapped))
    return _ok(ip.compressed)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _kind(kind: SelectorKind | str) -> SelectorKind:
    if isinstance(kind, SelectorKind):
        return kind
    try:
        return SelectorKind(kind.strip().lower())
    except ValueError:
        raise ValueError(f"unknown selector kind {kind!r}") from None


_SIMPLE: dict[SelectorKind, Callable[[str], Normalized]] = {
    SelectorKind.EMAIL: _normalize_email,
    SelectorKind.IMEI: _normalize_imei,
    SelectorKind.PLATE: _normalize_plate,
    SelectorKind.VIN: _normalize_vin,
    SelectorKind.CRYPTO_WALLET: _normalize_wallet,
    SelectorKind.IP: _normalize_ip,
}


# No selector is this long; longer text is refused before any pattern runs on it.
_MAX_LENGTH = 1000


@lru_cache(maxsize=1 << 18)
def _normalize(kind: SelectorKind, raw: str, platform: str | None, region: str) -> Normalized:
    if len(raw) > _MAX_LENGTH and len(raw.strip()) > _MAX_LENGTH:
        return _bad(raw.strip(), f"too long for a selector ({len(raw.strip())} characters)")
    if kind is SelectorKind.PHONE:
        return _normalize_phone(raw, region)
    if kind is SelectorKind.ACCOUNT:
        return _normalize_account(raw, platform, region)
    return _SIMPLE[kind](raw)


def normalize(
    kind: SelectorKind | str,
    raw: str,
    *,
    platform: str | None = None,
    default_region: str = "US",
) -> Normalized:
    """Normalize one selector value; never raises on the value (an unknown kind raises)."""
    return _normalize(_kind(kind), _as_text(raw), platform, default_region)


def normalize_many(
    kind: SelectorKind | str,
    raws: Iterable[str],
    *,
    platform: str | None = None,
    default_region: str = "US",
) -> list[Normalized]:
    """``normalize`` over many values (typically the distinct values of a column), in order."""
    k = _kind(kind)
    seen: dict[str, Normalized] = {}
    out: list[Normalized] = []
    for raw in raws:
        text = _as_text(raw)
        result = seen.get(text)
        if result is None:
            result = seen[text] = _normalize(k, text, platform, default_region)
        out.append(result)
    return out


def guess_kind(raw: str, platform: str | None = None) -> SelectorKind:
    """The kind of a communication endpoint: PHONE, EMAIL or ACCOUNT.

    Phone-like text is a PHONE (with a platform, only when it is a valid phone number: a
    Facebook numeric id is an ACCOUNT); an address with '@' and a dotted domain is an EMAIL; a
    profile URL of a known platform is an ACCOUNT; anything else is an ACCOUNT when a platform
    is given and a PHONE otherwise.
    """
    text = _clean(_as_text(raw))
    if len(text) > _MAX_LENGTH:
        return SelectorKind.ACCOUNT if platform else SelectorKind.PHONE
    if _email_like(text):
        return SelectorKind.EMAIL
    if _phone_like(text):
        if platform is None or resolve_platform(platform) in _PHONE_PLATFORMS:
            return SelectorKind.PHONE
        if _normalize(SelectorKind.PHONE, text, None, "US").valid:
            return SelectorKind.PHONE
        return SelectorKind.ACCOUNT
    if platform or _parse_profile_url(text) is not None:
        return SelectorKind.ACCOUNT
    return SelectorKind.PHONE


_E164 = re.compile(r"\+\d{6,15}")


def selector_key(
    kind: SelectorKind | str, normalized_value: str, platform: str | None = None
) -> str:
    """The key that joins one selector across records and agencies.

    ``phone:+13035550187``, ``email:x@y.com``, ``account:instagram:el.guero``, ``imei:...``,
    ``plate:CO:ABC123``, ``vin:...``, ``crypto_wallet:...``, ``ip:...``. An account that is a
    phone number (WhatsApp, Signal, a Telegram number) keys as that phone, and one that is an
    email address keys as that email, so they join the phone and email selectors. An account
    without a platform keys as ``account::handle``.
    """
    k = _kind(kind)
    if k is SelectorKind.ACCOUNT:
        if _E164.fullmatch(normalized_value):
            return f"phone:{normalized_value}"
        if "@" in normalized_value:
            return f"email:{normalized_value}"
        return f"account:{_platform_slug(platform)}:{normalized_value}"
    return f"{k.value}:{normalized_value}"
