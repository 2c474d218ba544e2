"""How one investigation writes a true person, organization or account: messily.

Each function takes the truth and a random generator and returns what a case file would
hold, with the errors and variants analysts meet in practice.
"""

from __future__ import annotations

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


def subject(rng: np.random.Generator, p: Person) -> dict[str, str]:
    """The subject columns (without ids) for person ``p``."""
    given = list(p.given)
    family = list(p.family)
    if p.hispanic and rng.random() < 0.45:
        given = [nm.strip_accents(g) for g in given]
        family = [nm.strip_accents(f) for f in family]
    if rng.random() < 0.12 and p.given[0] in nm.NICKNAMES:
        given[0] = nm.pick(rng, nm.NICKNAMES[p.given[0]])
    if rng.random() < 0.12:
        if rng.random() < 0.6:
            family[0] = nm.typo(rng, family[0])
        else:
            given[0] = nm.typo(rng, given[0])
    if len(family) == 2:
        r = rng.random()
        family_name = (
            family[0] if r < 0.3 else f"{family[0]}-{family[1]}" if r < 0.38 else " ".join(family)
        )
    else:
        family_name = family[0]
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
    style = int(rng.integers(4))
    if style == 0:
        full = " ".join(x for x in (given_name, middle, family_name) if x)
    elif style == 1:
        full = f"{family_name.upper()}, {' '.join(x for x in (given_name, middle) if x)}"
    elif style == 2:
        full = " ".join(x for x in (given_name, middle, family_name) if x).upper()
    else:
        full = f"{given_name} {family_name}"
    if rng.random() < 0.07:
        # Given and family names entered in each other's fields.
        given_name, family_name = family_name, given_name
    if rng.random() < 0.05:
        full = ""
    aliases = [a for a in p.aliases if rng.random() < 0.7]
    if p.hispanic and rng.random() < 0.2:
        nick = nm.NICKNAMES.get(p.given[0], (p.given[0],))[0]
        aliases.append(f"{nm.strip_accents(nick)} {nm.strip_accents(p.family[0])}")
    monikers = []
    for m in p.monikers:
        if rng.random() < 0.75:
            if p.hispanic and rng.random() < 0.3:
                m = f"El {m}"
            if rng.random() < 0.3:
                m = m.upper()
            monikers.append(m)
    dob = ""
    if rng.random() >= 0.35:
        d = p.dob
        if rng.random() < 0.05 and d.day <= 12 and d.day != d.month:
            d = date(d.year, d.day, d.month)  # month and day transposed
        dob = d.isoformat()
    role = p.role.value if rng.random() < 0.8 else rng.choice(["", Role.ASSOCIATE.value])
    return {
        "full_name": full,
        "given_name": given_name,
        "middle_name": middle,
        "family_name": family_name,
        "aliases": "|".join(aliases),
        "monikers": "|".join(monikers),
        "dob": dob,
        "sex": "" if rng.random() < 0.1 else p.sex.value,
        "addresses": p.address if rng.random() < 0.5 else "",
        "role": str(role),
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
