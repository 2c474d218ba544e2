"""Places of the synthetic world: DEA divisions with real cities, hubs and Mexican plazas.

Cities and area codes are real so the records look like an operation's; every phone number
built on them sits in the fictional 555 exchange (see ``phones.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from lastmile.model import DIVISIONS


@dataclass(frozen=True)
class City:
    name: str
    state: str
    area_codes: tuple[str, ...]


@dataclass(frozen=True)
class DivisionGeo:
    division: str
    code: str  # used in investigation ids, e.g. DEA-RM-2022-0007
    utc_offset_min: int  # standard time; the interchange writes fixed offsets
    cities: tuple[City, ...]
    hubs: tuple[str, ...]  # hub cities that usually supply this division (preference order)


def _c(name: str, state: str, *codes: str) -> City:
    return City(name, state, codes)


_EAST, _CENTRAL, _MOUNTAIN, _PACIFIC, _ATLANTIC = -300, -360, -420, -480, -240

GEO: dict[str, DivisionGeo] = {
    g.division: g
    for g in (
        DivisionGeo(
            "Atlanta",
            "ATL",
            _EAST,
            (
                _c("Atlanta", "GA", "404", "470", "678"),
                _c("Savannah", "GA", "912"),
                _c("Charlotte", "NC", "704", "980"),
                _c("Raleigh", "NC", "919"),
                _c("Columbia", "SC", "803"),
                _c("Charleston", "SC", "843"),
            ),
            ("Atlanta", "Houston"),
        ),
        DivisionGeo(
            "Caribbean",
            "CAR",
            _ATLANTIC,
            (
                _c("San Juan", "PR", "787", "939"),
                _c("Ponce", "PR", "787"),
                _c("Charlotte Amalie", "VI", "340"),
            ),
            ("Miami",),
        ),
        DivisionGeo(
            "Chicago",
            "CHI",
            _CENTRAL,
            (
                _c("Chicago", "IL", "312", "773", "872"),
                _c("Indianapolis", "IN", "317"),
                _c("Milwaukee", "WI", "414"),
                _c("Gary", "IN", "219"),
            ),
            ("Chicago", "Los Angeles"),
        ),
        DivisionGeo(
            "Dallas",
            "DAL",
            _CENTRAL,
            (
                _c("Dallas", "TX", "214", "972", "469"),
                _c("Fort Worth", "TX", "817"),
                _c("Oklahoma City", "OK", "405"),
                _c("Tulsa", "OK", "918"),
            ),
            ("Houston", "El Paso"),
        ),
        DivisionGeo(
            "Detroit",
            "DET",
            _EAST,
            (
                _c("Detroit", "MI", "313", "248"),
                _c("Grand Rapids", "MI", "616"),
                _c("Columbus", "OH", "614"),
                _c("Cleveland", "OH", "216"),
                _c("Cincinnati", "OH", "513"),
            ),
            ("Chicago", "Houston"),
        ),
        DivisionGeo(
            "El Paso",
            "ELP",
            _MOUNTAIN,
            (
                _c("El Paso", "TX", "915"),
                _c("Albuquerque", "NM", "505"),
                _c("Las Cruces", "NM", "575"),
            ),
            ("El Paso", "Phoenix"),
        ),
        DivisionGeo(
            "Houston",
            "HOU",
            _CENTRAL,
            (
                _c("Houston", "TX", "713", "832", "281"),
                _c("San Antonio", "TX", "210"),
                _c("Austin", "TX", "512"),
                _c("McAllen", "TX", "956"),
            ),
            ("Houston",),
        ),
        DivisionGeo(
            "Los Angeles",
            "LA",
            _PACIFIC,
            (
                _c("Los Angeles", "CA", "213", "323", "310"),
                _c("Riverside", "CA", "951"),
                _c("Santa Ana", "CA", "714"),
                _c("Las Vegas", "NV", "702"),
                _c("Honolulu", "HI", "808"),
            ),
            ("Los Angeles",),
        ),
        DivisionGeo(
            "Louisville",
            "LOU",
            _EAST,
            (
                _c("Louisville", "KY", "502"),
                _c("Lexington", "KY", "859"),
                _c("Nashville", "TN", "615"),
                _c("Memphis", "TN", "901"),
                _c("Knoxville", "TN", "865"),
                _c("Charleston", "WV", "304"),
            ),
            ("Atlanta", "Chicago", "Houston"),
        ),
        DivisionGeo(
            "Miami",
            "MIA",
            _EAST,
            (
                _c("Miami", "FL", "305", "786"),
                _c("Orlando", "FL", "407"),
                _c("Tampa", "FL", "813"),
                _c("Jacksonville", "FL", "904"),
            ),
            ("Miami", "Atlanta"),
        ),
        DivisionGeo(
            "New England",
            "NE",
            _EAST,
            (
                _c("Boston", "MA", "617", "857"),
                _c("Lawrence", "MA", "978"),
                _c("Hartford", "CT", "860"),
                _c("Providence", "RI", "401"),
                _c("Manchester", "NH", "603"),
                _c("Portland", "ME", "207"),
                _c("Burlington", "VT", "802"),
            ),
            ("Chicago", "Houston"),
        ),
        DivisionGeo(
            "New Jersey",
            "NJ",
            _EAST,
            (
                _c("Newark", "NJ", "973", "862"),
                _c("Camden", "NJ", "856"),
                _c("Trenton", "NJ", "609"),
                _c("Paterson", "NJ", "973"),
            ),
            ("Atlanta", "Houston"),
        ),
        DivisionGeo(
            "New Orleans",
            "NO",
            _CENTRAL,
            (
                _c("New Orleans", "LA", "504"),
                _c("Baton Rouge", "LA", "225"),
                _c("Jackson", "MS", "601"),
                _c("Birmingham", "AL", "205"),
                _c("Mobile", "AL", "251"),
                _c("Little Rock", "AR", "501"),
            ),
            ("Houston", "Atlanta"),
        ),
        DivisionGeo(
            "New York",
            "NY",
            _EAST,
            (
                _c("New York", "NY", "212", "718", "347", "917"),
                _c("Buffalo", "NY", "716"),
                _c("Albany", "NY", "518"),
                _c("Rochester", "NY", "585"),
            ),
            ("Chicago", "Houston", "Atlanta"),
        ),
        DivisionGeo(
            "Omaha",
            "OMA",
            _CENTRAL,
            (
                _c("Omaha", "NE", "402", "531"),
                _c("Des Moines", "IA", "515"),
                _c("Minneapolis", "MN", "612"),
                _c("Fargo", "ND", "701"),
                _c("Sioux Falls", "SD", "605"),
            ),
            ("Phoenix", "Chicago"),
        ),
        DivisionGeo(
            "Philadelphia",
            "PHI",
            _EAST,
            (
                _c("Philadelphia", "PA", "215", "267"),
                _c("Pittsburgh", "PA", "412"),
                _c("Allentown", "PA", "610"),
                _c("Wilmington", "DE", "302"),
            ),
            ("Houston", "Atlanta"),
        ),
        DivisionGeo(
            "Phoenix",
            "PHX",
            _MOUNTAIN,
            (
                _c("Phoenix", "AZ", "602", "480", "623"),
                _c("Tucson", "AZ", "520"),
                _c("Yuma", "AZ", "928"),
            ),
            ("Phoenix",),
        ),
        DivisionGeo(
            "Rocky Mountain",
            "RM",
            _MOUNTAIN,
            (
                _c("Denver", "CO", "303", "720"),
                _c("Colorado Springs", "CO", "719"),
                _c("Grand Junction", "CO", "970"),
                _c("Salt Lake City", "UT", "801", "385"),
                _c("Cheyenne", "WY", "307"),
                _c("Billings", "MT", "406"),
            ),
            ("Phoenix", "Los Angeles", "El Paso"),
        ),
        DivisionGeo(
            "San Diego",
            "SD",
            _PACIFIC,
            (
                _c("San Diego", "CA", "619", "858"),
                _c("Chula Vista", "CA", "619"),
                _c("El Centro", "CA", "760"),
                _c("Oceanside", "CA", "760"),
            ),
            ("San Diego",),
        ),
        DivisionGeo(
            "San Francisco",
            "SF",
            _PACIFIC,
            (
                _c("San Francisco", "CA", "415", "628"),
                _c("Oakland", "CA", "510"),
                _c("Sacramento", "CA", "916"),
                _c("Fresno", "CA", "559"),
            ),
            ("Los Angeles", "San Diego"),
        ),
        DivisionGeo(
            "Seattle",
            "SEA",
            _PACIFIC,
            (
                _c("Seattle", "WA", "206", "253"),
                _c("Spokane", "WA", "509"),
                _c("Portland", "OR", "503", "971"),
                _c("Boise", "ID", "208"),
                _c("Anchorage", "AK", "907"),
            ),
            ("Los Angeles", "San Diego"),
        ),
        DivisionGeo(
            "St. Louis",
            "STL",
            _CENTRAL,
            (
                _c("St. Louis", "MO", "314", "636"),
                _c("Kansas City", "MO", "816"),
                _c("Springfield", "MO", "417"),
                _c("Wichita", "KS", "316"),
            ),
            ("Chicago", "Phoenix"),
        ),
        DivisionGeo(
            "Washington",
            "WAS",
            _EAST,
            (
                _c("Washington", "DC", "202"),
                _c("Baltimore", "MD", "410", "443"),
                _c("Richmond", "VA", "804"),
                _c("Norfolk", "VA", "757"),
            ),
            ("Atlanta", "Houston"),
        ),
    )
}
assert tuple(sorted(GEO)) == tuple(sorted(DIVISIONS))

# The multi-city hubs that the cartels supply directly; each sits in the division named.
HUB_CITIES: tuple[tuple[str, str], ...] = (
    ("Los Angeles", "Los Angeles"),
    ("Phoenix", "Phoenix"),
    ("Houston", "Houston"),
    ("Chicago", "Chicago"),
    ("Atlanta", "Atlanta"),
    ("Miami", "Miami"),
    ("El Paso", "El Paso"),
    ("San Diego", "San Diego"),
)


@dataclass(frozen=True)
class Plaza:
    city: str
    state: str  # Mexican state
    area_code: str  # Mexican area code (2 or 3 digits)


# Plazas each cartel controls in the synthetic world (cities are real, people are not).
PLAZAS: dict[str, tuple[Plaza, ...]] = {
    "Sinaloa": (
        Plaza("Culiacán", "Sinaloa", "667"),
        Plaza("Tijuana", "Baja California", "664"),
        Plaza("Mexicali", "Baja California", "686"),
        Plaza("San Luis Río Colorado", "Sonora", "653"),
        Plaza("Ciudad Juárez", "Chihuahua", "656"),
    ),
    "Jalisco": (
        Plaza("Guadalajara", "Jalisco", "33"),
        Plaza("Puerto Vallarta", "Jalisco", "322"),
        Plaza("Manzanillo", "Colima", "314"),
        Plaza("Morelia", "Michoacán", "443"),
        Plaza("Reynosa", "Tamaulipas", "899"),
    ),
}

CARTEL_ORG_NAMES: dict[str, tuple[str, ...]] = {
    # The first spelling is the one most records use; the rest are what other agencies write.
    "Sinaloa": ("Sinaloa Cartel", "Cártel de Sinaloa", "CDS", "Sinaloa DTO"),
    "Jalisco": (
        "Jalisco New Generation Cartel",
        "CJNG",
        "Cártel Jalisco Nueva Generación",
        "Jalisco Cartel",
    ),
}


def city_of(division: str, index: int) -> City:
    cities = GEO[division].cities
    return cities[index % len(cities)]
