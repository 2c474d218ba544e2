"""How one investigation writes a true person, organization or account: messily.

Each function takes the truth and a random generator and returns what a case file would
hold, with the errors and variants analysts meet in practice.
"""

from __future__ import annotations

import contextlib
from datetime import date

import numpy as np

from lastmile.model import Platform, Role
from lastmile.synth import names as nm
from lastmile.synth.world import Account, Org, Person

_PROFILE_URL: dict[Platform, str] = {
    Platform.INSTAGRAM: "https://www.instagram.com/{}/",
    Platform.FACEBOOK: "https://www.facebook.com/{}",
    Platform.TIKTOK: "https://www.tiktok.com/@{}",
    Platform.SNAPCHAT: "https://www.snapchat.com/add/{}",
    Platform.TELEGRAM: "https://t.me/{}",
    Platform.X: "https://x.com/{}",
}


# Error rates (docs/synth.md cites the sources): a misspelt name field, a wrong digit or year
# in a date of birth, day and month swapped, a wrong or missing digit in an identifier.
NAME_ERROR = 0.04
DOB_MISSING = 0.35
DOB_SWAP = 0.05
DOB_DIGIT = 0.03
DOB_YEAR = 0.01
ID_SHOWN = 0.35
ID_DIGIT = 0.03
ID_DROP = 0.01
ROLE_WRONG = 0.10
_ROLES = tuple(r for r in Role if r not in (Role.CUSTOMER, Role.OTHER))
_SUFFIX_LONG = {
    "St": "Street", "Ave": "Avenue", "Blvd": "Boulevard", "Dr": "Drive", "Ct": "Court",
    "Ln": "Lane", "Way": "Way",
}  # fmt: skip


def _dob(rng: np.random.Generator, d: date) -> str:
    if rng.random() < DOB_MISSING:
        return ""
    r = rng.random()
    if r < DOB_SWAP and d.day <= 12 and d.day != d.month:
        d = date(d.year, d.day, d.month)  # month and day transposed
    elif r < DOB_SWAP + DOB_YEAR:
        d = _safe(d.year + int(rng.choice([-10, -1, 1, 10])), d.month, d.day, d)
    elif r < DOB_SWAP + DOB_YEAR + DOB_DIGIT:
        text = d.isoformat()
        pos = int(rng.choice([3, 6, 9]))  # a last digit of year, month or day mistyped
        digit = str((int(text[pos]) + int(rng.integers(1, 10))) % 10)
        text = text[:pos] + digit + text[pos + 1 :]
        with contextlib.suppress(ValueError):
            d = date.fromisoformat(text)
    return d.isoformat()


def _safe(y: int, m: int, dd: int, fallback: date) -> date:
    try:
        return date(y, m, dd)
    except ValueError:
        return fallback


def address(rng: np.random.Generator, addr: str, zip_code: str) -> str:
    """An address as one clerk writes it: suffix spelt out or not, unit as "Apt", "#" or
    "Unit" or left out, capitals, commas, ZIP or none."""
    parts = addr.split(", ")
    street = parts[0]
    words = street.split(" ")
    if "Apt" in words:
        k = words.index("Apt")
        r = rng.random()
        if r < 0.25:
            words = words[:k]
        elif r < 0.5:
            words = [*words[:k], "#" + words[k + 1]]
        elif r < 0.6:
            words = [*words[:k], "Unit", *words[k + 1 :]]
    if len(words) >= 3 and words[2] in _SUFFIX_LONG and rng.random() < 0.3:
        words[2] = _SUFFIX_LONG[words[2]]
    elif len(words) >= 3 and words[2] in _SUFFIX_LONG and rng.random() < 0.2:
        words[2] += "."
    text = ", ".join([" ".join(words), *parts[1:]])
    if zip_code and rng.random() < 0.5:
        text += f" {zip_code}"
    if rng.random() < 0.2:
        text = text.replace(",", "")
    if rng.random() < 0.2:
        text = text.upper()
    return text


def identifier(rng: np.random.Generator, kind: str, value: str) -> str:
    """``kind:value``, now and then with a wrong or a missing digit."""
    # An SSN's area (its first three digits, 9xx or 000) is never mistyped, so even a wrong
    # SSN stays in the never-issued areas.
    skip = 3 if kind == "ssn" else 0
    digits = [i for i, ch in enumerate(value) if ch.isdigit() and i >= skip]
    r = rng.random()
    if digits and r < ID_DIGIT:
        i = digits[int(rng.integers(len(digits)))]
        value = value[:i] + str((int(value[i]) + int(rng.integers(1, 10))) % 10) + value[i + 1 :]
    elif digits and r < ID_DIGIT + ID_DROP:
        i = digits[int(rng.integers(len(digits)))]
        value = value[:i] + value[i + 1 :]
    return f"{kind}:{value}"


def _family_name(rng: np.random.Generator, family: list[str]) -> str:
    if len(family) != 2:
        return family[0]
    r = rng.random()
    if r < 0.25:
        return family[0]  # cut to the paternal surname
    if r < 0.33:
        return f"{family[0]}-{family[1]}"
    if r < 0.40:
        return family[1]  # filed under the maternal surname
    return " ".join(family)


def subject(
    rng: np.random.Generator, p: Person, day: int = 0, mode: str = "true"
) -> dict[str, str]:
    """The subject columns (without ids) for person ``p`` as written on ``day``.

    ``mode`` is "true" (their own identity), "false" (a false identity: an alias as the
    primary name and a false date of birth) or "moniker" (known only by a street name, or
    only by a phone when they have none).
    """
    role_value = p.role.value
    r = rng.random()
    if r < ROLE_WRONG:
        role_value = _ROLES[int(rng.integers(len(_ROLES)))].value
    elif r < ROLE_WRONG + 0.08:
        role_value = ""
    monikers = []
    for m in p.monikers:
        if mode != "true" or rng.random() < 0.75:
            if p.hispanic and rng.random() < 0.3:
                m = f"El {m}"
            if rng.random() < 0.3:
                m = m.upper()
            monikers.append(m)
    sex = "" if rng.random() < 0.1 else p.sex.value
    if mode == "moniker":
        return {"monikers": "|".join(monikers), "sex": sex, "role": role_value}
    if mode == "false" and p.false_identity is not None:
        g, f, false_dob = p.false_identity
        given, family, dob_true = list(g), list(f), false_dob
    else:
        given, family, dob_true = list(p.given), list(p.family), p.dob
    if p.hispanic and rng.random() < 0.45:
        given = [nm.strip_accents(x) for x in given]
        family = [nm.strip_accents(x) for x in family]
    if rng.random() < 0.12 and given[0] in nm.NICKNAMES:
        given[0] = nm.pick(rng, nm.NICKNAMES[given[0]])
    for k, name in enumerate(family):
        variants = nm.VARIANT_OF.get(name)
        if variants and rng.random() < 0.15:
            family[k] = variants[int(rng.integers(len(variants)))]
    if rng.random() < NAME_ERROR:
        family[0] = nm.misspell(rng, family[0])
    if rng.random() < NAME_ERROR:
        given[0] = nm.misspell(rng, given[0])
    family_name = _family_name(rng, family)
    if len(given) == 2 and given[0] in nm.ABBREVIATIONS and rng.random() < 0.25:
        given[0] = nm.ABBREVIATIONS[given[0]]  # "Ma. Guadalupe", "J. Luis"
    middle = ""
    if len(given) == 2:
        r = rng.random()
        if r < 0.4:
            given_name, middle = given[0], given[1]
        elif r < 0.65:
            given_name = given[0]
        else:
            given_name = " ".join(given)
    else:
        given_name = given[0]
    suffix = p.suffix if mode == "true" and p.suffix and rng.random() < 0.6 else ""
    style = int(rng.integers(4))
    if style == 0:
        full = " ".join(x for x in (given_name, middle, family_name, suffix) if x)
    elif style == 1:
        full = f"{family_name.upper()}, {' '.join(x for x in (given_name, middle) if x)}"
        full += f" {suffix}" if suffix else ""
    elif style == 2:
        full = " ".join(x for x in (given_name, middle, family_name, suffix) if x).upper()
    else:
        full = f"{given_name} {family_name}"
    if suffix and rng.random() < 0.3:
        family_name = f"{family_name} {suffix}"
    if rng.random() < 0.07:
        # Given and family names entered in each other's fields.
        given_name, family_name = family_name, given_name
    if rng.random() < 0.05:
        full = ""
    aliases: list[str] = []
    addresses = ""
    identifiers: list[str] = []
    if mode == "true":
        aliases = [a for a in p.aliases if rng.random() < 0.7]
        if p.hispanic and rng.random() < 0.2:
            nick = nm.NICKNAMES.get(p.given[0], (p.given[0],))[0]
            aliases.append(f"{nm.strip_accents(nick)} {nm.strip_accents(p.family[0])}")
        if rng.random() < 0.5:
            home = [p.address]
            if p.moved is not None and day >= p.moved[1]:
                home = [p.moved[0], p.address] if rng.random() < 0.15 else [p.moved[0]]
            addresses = "|".join(address(rng, a, p.zip) for a in home)
        identifiers = [identifier(rng, k, v) for k, v in p.identifiers if rng.random() < ID_SHOWN]
    return {
        "full_name": full,
        "given_name": given_name,
        "middle_name": middle,
        "family_name": family_name,
        "aliases": "|".join(aliases),
        "monikers": "|".join(monikers),
        "dob": _dob(rng, dob_true) if mode == "true" or rng.random() < 0.7 else "",
        "sex": sex,
        "addresses": addresses,
        "role": role_value,
        "identifiers": "|".join(identifiers),
    }


def org_name(rng: np.random.Generator, o: Org) -> tuple[str, str]:
    """(name, aliases) as a case file writes the organization."""
    spellings = (o.name, *o.aliases)
    name = spellings[0] if rng.random() < 0.6 else spellings[int(rng.integers(len(spellings)))]
    if rng.random() < 0.3:
        name = nm.strip_accents(name)
    aliases = [a for a in spellings if a != name and rng.random() < 0.3]
    return name, "|".join(aliases)


def account(rng: np.random.Generator, a: Account) -> str:
    """An account handle as written: with or without "@", in any case, or a profile URL."""
    r = rng.random()
    if r < 0.15 and a.platform in _PROFILE_URL:
        return _PROFILE_URL[a.platform].format(a.display if rng.random() < 0.5 else a.handle)
    base = a.display if rng.random() < 0.5 else a.handle
    if rng.random() < 0.15:
        base = base.upper()
    return f"@{base}" if rng.random() < 0.45 else base


def email(rng: np.random.Generator, address: str) -> str:
    return (
        address.upper()
        if rng.random() < 0.1
        else (address.capitalize() if rng.random() < 0.2 else address)
    )
