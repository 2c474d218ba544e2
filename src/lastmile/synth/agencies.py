"""The agencies of the operation: DEA and its federal, state, local and tribal partners.

Agency names follow real patterns; every point of contact is fictional, with a phone in the
555 exchange and an address at example.gov.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lastmile.model import AgencyKind
from lastmile.synth import names as nm
from lastmile.synth.geo import GEO
from lastmile.synth.phones import PhoneBook, render

STATE_NAMES: dict[str, str] = {
    "GA": "Georgia",
    "NC": "North Carolina",
    "SC": "South Carolina",
    "PR": "Puerto Rico",
    "VI": "Virgin Islands",
    "IL": "Illinois",
    "IN": "Indiana",
    "WI": "Wisconsin",
    "TX": "Texas",
    "OK": "Oklahoma",
    "MI": "Michigan",
    "OH": "Ohio",
    "NM": "New Mexico",
    "CA": "California",
    "NV": "Nevada",
    "HI": "Hawaii",
    "KY": "Kentucky",
    "TN": "Tennessee",
    "WV": "West Virginia",
    "FL": "Florida",
    "MA": "Massachusetts",
    "CT": "Connecticut",
    "RI": "Rhode Island",
    "NH": "New Hampshire",
    "ME": "Maine",
    "VT": "Vermont",
    "NJ": "New Jersey",
    "LA": "Louisiana",
    "MS": "Mississippi",
    "AL": "Alabama",
    "AR": "Arkansas",
    "NY": "New York",
    "NE": "Nebraska",
    "IA": "Iowa",
    "MN": "Minnesota",
    "ND": "North Dakota",
    "SD": "South Dakota",
    "PA": "Pennsylvania",
    "DE": "Delaware",
    "AZ": "Arizona",
    "CO": "Colorado",
    "UT": "Utah",
    "WY": "Wyoming",
    "MT": "Montana",
    "WA": "Washington",
    "OR": "Oregon",
    "ID": "Idaho",
    "AK": "Alaska",
    "MO": "Missouri",
    "KS": "Kansas",
    "DC": "District of Columbia",
    "MD": "Maryland",
    "VA": "Virginia",
}

FEDERAL: tuple[tuple[str, str], ...] = (
    ("DEA", "Drug Enforcement Administration"),
    ("FBI", "Federal Bureau of Investigation"),
    ("HSI", "Homeland Security Investigations"),
    ("ATF", "Bureau of Alcohol, Tobacco, Firearms and Explosives"),
    ("USMS", "United States Marshals Service"),
    ("IRS-CI", "IRS Criminal Investigation"),
    ("USPIS", "United States Postal Inspection Service"),
)

TRIBAL: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Rocky Mountain": (
        ("CO-SUPD", "Southern Ute Police Department", "CO"),
        ("MT-BLES", "Blackfeet Law Enforcement Services", "MT"),
    ),
    "Phoenix": (
        ("AZ-TONPD", "Tohono O'odham Nation Police Department", "AZ"),
        ("AZ-GRPD", "Gila River Police Department", "AZ"),
    ),
    "El Paso": (("NM-NNPD", "Navajo Nation Police", "NM"),),
    "Omaha": (("SD-OSTPS", "Oglala Sioux Tribe Department of Public Safety", "SD"),),
    "Seattle": (("WA-TTPD", "Tulalip Tribal Police", "WA"),),
    "Dallas": (("OK-CNMS", "Cherokee Nation Marshal Service", "OK"),),
    "Miami": (("FL-SPD", "Seminole Police Department", "FL"),),
    "Chicago": (("WI-MTPD", "Menominee Tribal Police", "WI"),),
}

_TITLES = {
    AgencyKind.FEDERAL: ("SA", "SSA", "TFO", "GS"),
    AgencyKind.STATE: ("Agent", "Sgt.", "Inv."),
    AgencyKind.LOCAL: ("Det.", "Sgt.", "Lt."),
    AgencyKind.TRIBAL: ("Lt.", "Officer", "Capt."),
}


@dataclass(frozen=True)
class Agency:
    agency_id: str
    name: str
    kind: AgencyKind
    poc_name: str
    poc_phone: str
    poc_email: str


class AgencyRoster:
    """Agencies per division, created as investigations need them, in a fixed order."""

    def __init__(self, rng: np.random.Generator, phones: PhoneBook) -> None:
        self.rng = rng
        self.phones = phones
        self.agencies: dict[str, Agency] = {}
        self._emails: set[str] = set()

    def _make(self, agency_id: str, name: str, kind: AgencyKind, area: str) -> str:
        if agency_id in self.agencies:
            return agency_id
        rng = self.rng
        female = rng.random() < 0.35
        hispanic = rng.random() < 0.3
        if hispanic:
            given = nm.tables()["hispanic_female" if female else "hispanic_male"].draw(rng)
            family = nm.tables()["hispanic_family"].draw(rng)
        else:
            given = nm.tables()["other_female" if female else "other_male"].draw(rng)
            family = nm.tables()["other_family"].draw(rng)
        title = nm.pick(rng, _TITLES[kind])
        local = nm.strip_accents(f"{given[0]}.{family}").lower()
        email = f"{local}@example.gov"
        n = 2
        while email in self._emails:
            email = f"{local}{n}@example.gov"
            n += 1
        self._emails.add(email)
        phone = render(self.phones.us(area), 5)  # 303-555-0142
        self.agencies[agency_id] = Agency(
            agency_id, name, kind, f"{title} {given} {family}", phone, email
        )
        return agency_id

    def pick(self, division: str, u: float | None = None) -> str:
        """The agency that opens an investigation in this division (DEA leads most).

        ``u`` forces the draw (the tiny scale uses it to get one agency of every kind).
        """
        rng = self.rng
        geo = GEO[division]
        main = geo.cities[0]
        u = rng.random() if u is None else u
        tribal = TRIBAL.get(division, ())
        if u < 0.55:
            return self._make("DEA", FEDERAL[0][1], AgencyKind.FEDERAL, "202")
        if u < 0.70:
            aid, name = FEDERAL[1 + int(rng.integers(len(FEDERAL) - 1))]
            return self._make(aid, name, AgencyKind.FEDERAL, "202")
        if u < 0.82:
            c = geo.cities[int(rng.integers(len(geo.cities)))]
            state = STATE_NAMES[c.state]
            return self._make(
                f"{c.state}-DPS",
                f"{state} Department of Public Safety",
                AgencyKind.STATE,
                c.area_codes[0],
            )
        if u < 0.97 or not tribal:
            c = geo.cities[int(rng.integers(min(3, len(geo.cities))))] if u < 0.97 else main
            slug = nm.strip_accents(c.name).upper().replace(" ", "").replace(".", "")
            return self._make(
                f"{c.state}-{slug}-PD",
                f"{c.name} Police Department",
                AgencyKind.LOCAL,
                c.area_codes[0],
            )
        aid, name, state = tribal[int(rng.integers(len(tribal)))]
        area = next(c.area_codes[0] for c in geo.cities if c.state == state)
        return self._make(aid, name, AgencyKind.TRIBAL, area)
