"""The true world behind the records: people, organizations, networks and their selectors.

Two cartels (Sinaloa and Jalisco) run plazas in Mexico with plaza bosses, brokers and
couriers; brokers supply hub organizations in eight US hub cities; hubs supply regional
distribution networks in every division, each with crews or gangs of street dealers who sell
to customers. Investigations later see parts of this world (``records.py``); the truth files
describe it whole (``truth.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from lastmile.model import OrganizationKind, Platform, Role, Sex
from lastmile.synth import names as nm
from lastmile.synth.geo import CARTEL_ORG_NAMES, GEO, HUB_CITIES, PLAZAS
from lastmile.synth.phones import PhoneBook

EPOCH = date(2022, 1, 1)  # day 0 of every day number in the world
COMM_FROM = (date(2022, 3, 1) - EPOCH).days  # toll records start here
COMM_TO = (date(2023, 5, 1) - EPOCH).days  # ... and end here (exclusive)
FOREVER = 100_000

# How much a role talks, relative to a dealer (heavy tails come on top, per person).
ROLE_ACTIVITY: dict[Role, float] = {
    Role.LEADER: 2.0,
    Role.PLAZA_BOSS: 4.0,
    Role.BROKER: 6.0,
    Role.SOURCE_OF_SUPPLY: 8.0,
    Role.DISTRIBUTOR: 4.0,
    Role.COURIER: 3.0,
    Role.MONEY_LAUNDERER: 2.0,
    Role.ENFORCER: 1.0,
    Role.DEALER: 1.5,
}
# Who is in the habit of replacing phones every few weeks. The habit only shows where the
# phone is a working one: a trafficker some investigation targets (``furnish``) gets a chain of
# burners; the others keep one number.
BURNER_SHARE: dict[Role, float] = {
    Role.BROKER: 0.7,
    Role.COURIER: 0.6,
    Role.SOURCE_OF_SUPPLY: 0.5,
    Role.DISTRIBUTOR: 0.45,
    Role.DEALER: 0.3,
    Role.PLAZA_BOSS: 0.5,
}


@dataclass
class Person:
    idx: int
    network: int
    cartel: str
    role: Role
    given: tuple[str, ...]
    family: tuple[str, ...]
    hispanic: bool
    sex: Sex
    dob: date
    monikers: tuple[str, ...]
    aliases: tuple[str, ...]
    city: str
    state: str
    in_mexico: bool
    area: str
    address: str
    activity: float
    burner: bool  # replaces phones every few weeks (a chain of burners, see ``furnish``)
    crew: int = -1
    supplier: int = -1
    relatives: list[int] = field(default_factory=list)
    civilian: bool = False  # a non-criminal contact: partner, relative, lawyer, co-worker
    suffix: str = ""  # "Jr." or "Sr." for a father and son of one name
    zip: str = ""
    moved: tuple[str, int] | None = None  # (new address, day of the move)
    identifiers: tuple[tuple[str, str], ...] = ()  # (kind, value), all fictional
    false_identity: tuple[tuple[str, ...], tuple[str, ...], date] | None = None


@dataclass
class Org:
    idx: int
    name: str
    kind: OrganizationKind
    aliases: tuple[str, ...]
    network: int
    cartel: str


@dataclass
class Network:
    idx: int
    kind: str  # cartel, hub or local
    cartel: str
    division: str  # "" for a cartel's Mexican network
    city: str
    state: str
    org: int
    members: list[int] = field(default_factory=list)
    crews: list[list[int]] = field(default_factory=list)  # members of each crew
    crew_orgs: list[int] = field(default_factory=list)
    leader: int = -1


@dataclass(frozen=True)
class NetworkSpec:
    """A local network an investigation plan asks for."""

    division: str
    cartel: str
    city_index: int
    min_size: int


@dataclass
class Account:
    owner: int
    platform: Platform
    handle: str  # normalized: lower case, no "@"
    display: str  # as its owner styles it


@dataclass
class World:
    persons: list[Person] = field(default_factory=list)
    orgs: list[Org] = field(default_factory=list)
    networks: list[Network] = field(default_factory=list)
    cartel_org: dict[str, int] = field(default_factory=dict)
    hubs: dict[tuple[str, str], int] = field(default_factory=dict)  # (city, cartel) -> network
    # Phone lines, one row each; ``slot`` 0 is a person's main line (a chain of burners for
    # some), 1 a second or family phone. Lines of customers have owner >= len(persons).
    line_number: list[str] = field(default_factory=list)
    line_owner: list[int] = field(default_factory=list)
    line_slot: list[int] = field(default_factory=list)
    line_start: list[int] = field(default_factory=list)
    line_end: list[int] = field(default_factory=list)
    line_shared_with: dict[int, list[int]] = field(default_factory=dict)  # line -> co-users
    # A burner passed on: line -> (new user, first day); the new user carries it as a second
    # line from that day.
    line_passed: dict[int, tuple[int, int]] = field(default_factory=dict)
    # The true ties between people: (a, b, kind, hidden). Hidden ties (some supply links) never
    # show in any record or return.
    tie_list: list[tuple[int, int, str, bool]] = field(default_factory=list)
    handovers: list[tuple[int, int, int]] = field(default_factory=list)  # old, new, day
    accounts: list[Account] = field(default_factory=list)
    account_of: dict[tuple[int, Platform], int] = field(default_factory=dict)
    emails: list[tuple[int, str]] = field(default_factory=list)
    email_of: dict[int, int] = field(default_factory=dict)
    # Customers: anonymous people who only appear as the other end of a dealer's messages.
    customer_division: list[str] = field(default_factory=list)
    customer_pool: dict[str, tuple[int, int]] = field(default_factory=dict)  # div -> [lo, hi)
    customer_city: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    broker_net: int = -1  # the independent brokers' network
    cartel_net: dict[str, int] = field(default_factory=dict)  # cartel -> its Mexican network
    divisions: list[str] = field(default_factory=list)  # with customers, sorted
    phones: PhoneBook = field(default_factory=PhoneBook)
    _handles: set[str] = field(default_factory=set)
    _lines_by_owner: dict[int, list[int]] = field(default_factory=dict)
    _ties: dict[int, list[int]] = field(default_factory=dict)
    _tie_ids: dict[int, list[int]] = field(default_factory=dict)

    # -- queries ---------------------------------------------------------------------------

    def lines_of(self, person: int) -> list[int]:
        return self._lines_by_owner.get(person, [])

    def index_lines(self) -> None:
        by: dict[int, list[int]] = {}
        for i, o in enumerate(self.line_owner):
            by.setdefault(o, []).append(i)
        for line, users in self.line_shared_with.items():
            for u in users:
                by.setdefault(u, []).append(line)
        for line, (user, _day) in self.line_passed.items():
            by.setdefault(user, []).append(line)
        self._lines_by_owner = by

    def ties(self, person: int) -> list[int]:
        """The people this person talks to (criminal and non-criminal ties not hidden)."""
        return self._ties.get(person, [])

    def tie(self, a: int, b: int, kind: str, hidden: bool = False) -> None:
        if a != b:
            self.tie_list.append((min(a, b), max(a, b), kind, hidden))

    def ties_among(self, people: list[int]) -> list[tuple[int, int, str, bool]]:
        """The true ties between any two of ``people``, in a fixed order."""
        inside = set(people)
        out = []
        for a in sorted(inside):
            for k in self._tie_ids.get(a, []):
                x, y, kind, hidden = self.tie_list[k]
                if x == a and y in inside:
                    out.append((x, y, kind, hidden))
        return out

    def index_ties(self) -> None:
        by: dict[int, list[int]] = {}
        for k, (a, _b, _kind, _hidden) in enumerate(self.tie_list):
            by.setdefault(a, []).append(k)
        self._tie_ids = by
        ties: dict[int, list[int]] = {}
        for a, b, _kind, hidden in self.tie_list:
            if not hidden:
                ties.setdefault(a, []).append(b)
                ties.setdefault(b, []).append(a)
        self._ties = {k: sorted(set(v)) for k, v in ties.items()}

    # -- construction helpers ---------------------------------------------------------------

    def add_line(self, number: str, owner: int, slot: int, start: int, end: int) -> int:
        self.line_number.append(number)
        self.line_owner.append(owner)
        self.line_slot.append(slot)
        self.line_start.append(start)
        self.line_end.append(end)
        return len(self.line_number) - 1

    def account(self, rng: np.random.Generator, person: int, platform: Platform) -> int:
        """The person's account on a platform, created the first time anyone asks."""
        key = (person, platform)
        if key in self.account_of:
            return self.account_of[key]
        if person < len(self.persons):
            p = self.persons[person]
            stem = (p.monikers[0] if p.monikers else p.given[0]) if rng.random() < 0.6 else ""
            stem = nm.strip_accents(stem).replace(" ", "_")
        else:
            stem = ""
        word = nm.pick(rng, nm.HANDLE_WORDS)
        parts = [s for s in (stem, word) if s]
        if rng.random() < 0.5:
            parts.reverse()
        sep = ("", "_", ".")[int(rng.integers(3))]
        display = sep.join(parts) + str(int(rng.integers(1, 999)))
        if rng.random() < 0.4:
            display = display.title()
        handle = display.lower()
        while handle in self._handles:
            display += str(int(rng.integers(10)))
            handle = display.lower()
        self._handles.add(handle)
        self.accounts.append(Account(person, platform, handle, display))
        self.account_of[key] = len(self.accounts) - 1
        return len(self.accounts) - 1

    def email(self, rng: np.random.Generator, person: int) -> int:
        if person in self.email_of:
            return self.email_of[person]
        p = self.persons[person]
        local = nm.strip_accents(f"{p.given[0]}.{p.family[0]}").lower().replace(" ", "")
        domain = ("example.com", "example.net", "example.org")[int(rng.integers(3))]
        address = f"{local}{int(rng.integers(1, 99))}@{domain}"
        self.emails.append((person, address))
        self.email_of[person] = len(self.emails) - 1
        return len(self.emails) - 1


def _name(
    rng: np.random.Generator, hispanic: bool, female: bool
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    t = nm.tables()
    if hispanic:
        pool = t["hispanic_female" if female else "hispanic_male"]
        given: tuple[str, ...] = (pool.draw(rng),)
        if rng.random() < 0.5:
            second = pool.draw(rng)
            if second != given[0]:
                given += (second,)
        fam = t["hispanic_family"]
        return given, (fam.draw(rng), fam.draw(rng))
    pool = t["other_female" if female else "other_male"]
    given = (pool.draw(rng),)
    if rng.random() < 0.3:
        middle = pool.draw(rng)
        if middle != given[0]:
            given += (middle,)
    return given, (t["other_family"].draw(rng),)


def _digits(rng: np.random.Generator, n: int) -> str:
    return f"{int(rng.integers(0, 10**n)):0{n}d}"


def _identifiers(
    rng: np.random.Generator, state: str, in_mexico: bool, hispanic: bool
) -> tuple[tuple[str, str], ...]:
    """Fictional identifiers: SSNs only in the never-issued 9xx and 000 areas, and numbers
    drawn at random in the formats case files use."""
    out: list[tuple[str, str]] = []
    if not in_mexico:
        if rng.random() < 0.75:
            area = f"{int(rng.integers(900, 1000))}" if rng.random() < 0.9 else "000"
            out.append(("ssn", f"{area}-{_digits(rng, 2)}-{_digits(rng, 4)}"))
        if rng.random() < 0.6:
            out.append(("dl", f"{state}-{_digits(rng, 9)}"))
        if rng.random() < 0.35:
            letters = "".join(chr(65 + int(x)) for x in rng.integers(0, 26, size=2))
            out.append(("fbi", f"{_digits(rng, 6)}{letters}{_digits(rng, 1)}"))
        if rng.random() < 0.15:
            out.append(("state_id", f"{state}{_digits(rng, 8)}"))
    if in_mexico or (hispanic and rng.random() < 0.25):
        if rng.random() < 0.6:
            out.append(("passport", f"MX-G{_digits(rng, 8)}"))
        if not in_mexico and rng.random() < 0.6:
            out.append(("a_number", f"A{_digits(rng, 9)}"))
        if rng.random() < 0.2:
            out.append(("other", f"MATRICULA-{_digits(rng, 7)}"))
    return tuple(out)


# Sizes of local networks: log-normal around 30 people, from 10 to several hundred.
LOCAL_SIZE_MEDIAN = 30
LOCAL_SIZE_SIGMA = 0.85
LOCAL_SIZE_MAX = 450
CELL_SIZE = 12  # people per cell (crew), on average
# Holme-Kim growth inside a cell: links per newcomer, and the chance of closing a triangle.
TRIAD_P = 0.5
SECOND_LINK_P = 0.15
HEAD_CELLS = 2  # cells in which the network's head deals directly
PA_POWER = 1.4  # attachment weight = degree ** PA_POWER (a few dominant dealers per cell)
HIDDEN_SUPPLY = 0.15
# Traffickers with a false identity (a name and a date of birth); records.py uses it in
# 60% of their later records, so about 30% of people in several records appear under it.
FALSE_IDENTITY = 0.45  # supply links no investigation ever observes
# Non-criminal contacts (per criminal person, in the US).
PARTNER_P = 0.35
CIVIL_RELATIVE_P = 0.25
WORKPLACE_P = 0.2


class _Builder:
    def __init__(self, rng: np.random.Generator, w: World, max_local: int = LOCAL_SIZE_MAX) -> None:
        self.rng = rng
        self.w = w
        self.max_local = max_local

    def _address(self, city: str, state: str, in_mexico: bool) -> str:
        rng = self.rng
        number = int(rng.integers(100, 9900))
        street = f"{nm.pick(rng, nm.STREETS)} {nm.pick(rng, nm.STREET_SUFFIX)}"
        if in_mexico:
            return f"Calle {nm.pick(rng, nm.STREETS)} {number}, {city}, {state}"
        unit = f" Apt {int(rng.integers(1, 40))}" if rng.random() < 0.3 else ""
        return f"{number} {street}{unit}, {city}, {state}"

    def person(
        self,
        network: int,
        cartel: str,
        role: Role,
        city: str,
        state: str,
        area: str,
        in_mexico: bool = False,
        hispanic_share: float = 0.5,
        civilian: bool = False,
    ) -> int:
        rng = self.rng
        hispanic = in_mexico or rng.random() < hispanic_share
        female = rng.random() < (0.55 if civilian else 0.15)
        given, family = _name(rng, hispanic, female)
        pool = nm.MONIKERS_ES if hispanic else nm.MONIKERS_EN
        k = 0 if civilian else int(rng.choice(3, p=[0.35, 0.5, 0.15]))
        monikers = tuple(dict.fromkeys(nm.pick(rng, pool) for _ in range(k)))
        aliases: tuple[str, ...] = ()
        if not civilian and rng.random() < 0.25:
            g2, f2 = _name(rng, hispanic, female)
            aliases = (f"{g2[0]} {f2[0]}",)
        dob = date(1965, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 38)))
        address = self._address(city, state, in_mexico)
        activity = ROLE_ACTIVITY.get(role, 1.0) * (1.0 + float(rng.pareto(1.6)))
        burner = not civilian and rng.random() < BURNER_SHARE.get(role, 0.1)
        p = Person(
            idx=len(self.w.persons),
            network=network,
            cartel=cartel,
            role=role,
            given=given,
            family=family,
            hispanic=hispanic,
            sex=Sex.FEMALE if female else Sex.MALE,
            dob=dob,
            monikers=monikers,
            aliases=aliases,
            city=city,
            state=state,
            in_mexico=in_mexico,
            area=area,
            address=address,
            activity=activity * (0.5 if civilian else 1.0),
            burner=burner,
            civilian=civilian,
        )
        if not in_mexico:
            p.zip = f"{_zip_prefix(city)}{int(rng.integers(0, 100)):02d}"
            if not civilian and rng.random() < 0.25:
                p.moved = (
                    self._address(city, state, False),
                    int(rng.integers(COMM_FROM, COMM_TO + 200)),
                )
        p.identifiers = _identifiers(rng, state, in_mexico, hispanic)
        if not civilian and rng.random() < FALSE_IDENTITY:
            g3, f3 = _name(rng, hispanic, female)
            false_dob = dob + timedelta(days=int(rng.integers(-2000, 2000)))
            p.false_identity = (g3, f3, false_dob)
        self.w.persons.append(p)
        if not civilian:
            self.w.networks[network].members.append(p.idx)
        return p.idx

    def org(
        self, name: str, kind: OrganizationKind, aliases: tuple[str, ...], net: int, cartel: str
    ) -> int:
        self.w.orgs.append(Org(len(self.w.orgs), name, kind, aliases, net, cartel))
        return len(self.w.orgs) - 1

    def network(self, kind: str, cartel: str, division: str, city: str, state: str) -> Network:
        net = Network(len(self.w.networks), kind, cartel, division, city, state, org=-1)
        self.w.networks.append(net)
        return net

    def supply(self, supplier: int, customer: int) -> None:
        """``supplier`` supplies ``customer``; some such links are never observed."""
        self.w.persons[customer].supplier = supplier
        self.w.tie(supplier, customer, "supply", hidden=self.rng.random() < HIDDEN_SUPPLY)

    # -- the three tiers -------------------------------------------------------------------

    def cartel(self, cartel: str) -> Network:
        rng = self.rng
        w = self.w
        plazas = PLAZAS[cartel]
        net = self.network("cartel", cartel, "", plazas[0].city, plazas[0].state)
        names = CARTEL_ORG_NAMES[cartel]
        net.org = self.org(names[0], OrganizationKind.CARTEL, names[1:], net.idx, cartel)
        w.cartel_org[cartel] = net.org
        p0 = plazas[0]
        net.leader = self.person(
            net.idx, cartel, Role.LEADER, p0.city, p0.state, p0.area_code, in_mexico=True
        )
        second = self.person(net.idx, cartel, Role.LEADER, p0.city, p0.state, p0.area_code, True)
        w.tie(net.leader, second, "communication")
        for pl in plazas:
            boss = self.person(
                net.idx, cartel, Role.PLAZA_BOSS, pl.city, pl.state, pl.area_code, True
            )
            self.supply(net.leader, boss)
            cell = [boss]
            for role in (Role.BROKER, Role.BROKER, Role.COURIER, Role.COURIER):
                m = self.person(net.idx, cartel, role, pl.city, pl.state, pl.area_code, True)
                self.supply(boss, m)
                cell.append(m)
            if rng.random() < 0.5:
                m = self.person(
                    net.idx, cartel, Role.MONEY_LAUNDERER, pl.city, pl.state, pl.area_code, True
                )
                w.tie(boss, m, "communication")
                cell.append(m)
            w.tie(cell[1], cell[3], "communication")
            net.crews.append(cell)
        return net

    def brokers(self, n: int) -> Network:
        """Independent brokers who work for both cartels (a network of their own)."""
        net = self.network("brokers", "", "", PLAZAS["Sinaloa"][1].city, "Baja California")
        for k in range(n):
            pl = PLAZAS["Sinaloa" if k % 2 == 0 else "Jalisco"][1 + k % 4]
            self.person(net.idx, "", Role.BROKER, pl.city, pl.state, pl.area_code, True)
        return net

    def hub(self, city: str, division: str, cartel: str) -> Network:
        rng = self.rng
        w = self.w
        geo = GEO[division]
        c = next(x for x in geo.cities if x.name == city)
        net = self.network("hub", cartel, division, city, c.state)

        def add(role: Role) -> int:
            area = c.area_codes[int(rng.integers(len(c.area_codes)))]
            return self.person(net.idx, cartel, role, city, c.state, area, hispanic_share=0.85)

        net.leader = add(Role.SOURCE_OF_SUPPLY)
        leader = w.persons[net.leader]
        fam = leader.family[0]
        net.org = self.org(
            f"{nm.strip_accents(fam) if rng.random() < 0.5 else fam} Organization",
            OrganizationKind.DTO,
            (f"{fam} DTO", f"Los {fam}"),
            net.idx,
            cartel,
        )
        cartel_net = w.networks[w.cartel_net[cartel]]
        brokers = [m for m in cartel_net.members if w.persons[m].role == Role.BROKER]
        self.supply(brokers[int(rng.integers(len(brokers)))], net.leader)
        lieutenants = [add(Role.DISTRIBUTOR) for _ in range(int(rng.integers(2, 4)))]
        for lt in lieutenants:
            self.supply(net.leader, lt)
        crew = [net.leader, *lieutenants]
        for role in (
            [Role.COURIER] * int(rng.integers(3, 6))
            + [Role.MONEY_LAUNDERER] * int(rng.integers(1, 3))
            + [Role.ENFORCER]
        ):
            m = add(role)
            boss = crew[int(rng.integers(len(crew)))] if rng.random() < 0.4 else net.leader
            w.tie(boss, m, "communication")
            crew.append(m)
        for a, b in itertools.pairwise(lieutenants):
            w.tie(a, b, "communication")
        net.crews.append(crew)
        return net

    def _cell(
        self, head: int, head_degree: float, leader: int, size: int, add: Callable[[Role], int]
    ) -> tuple[list[int], float]:
        """A cell grown by preferential attachment with triad formation (Holme and Kim
        2002): each newcomer links to one member chosen by degree (its supplier), now and then
        to a second, and often to a contact of the first, so degrees are heavy-tailed and
        triangles common. The network's head takes part with the degree it has so far, so
        it stays the best-connected person of the network. Returns the cell (without the
        head) and the head's new degree."""
        rng = self.rng
        w = self.w
        cand = [head, leader]
        degree = [head_degree, 1.0]
        nbrs: list[list[int]] = [[1], [0]]
        for _ in range(size - 1):
            role = Role.DEALER if rng.random() < 0.85 else Role.COURIER
            m = add(role)
            cum = np.cumsum(np.power(degree, PA_POWER))
            first = int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))
            links = [first]
            if rng.random() < SECOND_LINK_P:
                other = int(np.searchsorted(cum, rng.random() * cum[-1], side="right"))
                if other != first:
                    links.append(other)
            if nbrs[first] and rng.random() < TRIAD_P:
                links.append(nbrs[first][int(rng.integers(len(nbrs[first])))])
            cand.append(m)
            degree.append(1.0)
            nbrs.append([])
            me = len(cand) - 1
            for n_, j in enumerate(dict.fromkeys(links)):
                if n_ == 0:
                    self.supply(cand[j], m)
                else:
                    w.tie(cand[j], m, "communication")
                degree[j] += 1
                degree[me] += 1
                nbrs[j].append(me)
                nbrs[me].append(j)
        return cand[1:], degree[0]

    def local(self, spec: NetworkSpec, hub_net: Network) -> Network:
        rng = self.rng
        w = self.w
        geo = GEO[spec.division]
        c = geo.cities[spec.city_index % len(geo.cities)]
        net = self.network("local", spec.cartel, spec.division, c.name, c.state)

        def add(role: Role) -> int:
            area = c.area_codes[int(rng.integers(len(c.area_codes)))]
            return self.person(net.idx, spec.cartel, role, c.name, c.state, area)

        size = int(
            np.clip(rng.lognormal(np.log(LOCAL_SIZE_MEDIAN), LOCAL_SIZE_SIGMA), 10, LOCAL_SIZE_MAX)
        )
        size = min(size, self.max_local)
        size = max(size, spec.min_size)
        net.leader = add(Role.DISTRIBUTOR)
        leader = w.persons[net.leader]
        suppliers = [
            m
            for m in hub_net.members
            if w.persons[m].role in (Role.SOURCE_OF_SUPPLY, Role.DISTRIBUTOR)
        ]
        self.supply(suppliers[int(rng.integers(len(suppliers)))], net.leader)
        fam = leader.family[0]
        net.org = self.org(
            f"{fam} DTO",
            OrganizationKind.DTO,
            (f"{nm.strip_accents(fam)} Drug Trafficking Organization", f"{fam} Organization"),
            net.idx,
            spec.cartel,
        )
        n_staff = 1 + int(rng.integers(0, 2)) + size // 40
        staff = [Role.COURIER] * n_staff
        staff += [Role.MONEY_LAUNDERER] * int(rng.random() < 0.6)
        staff += [Role.ENFORCER] * int(rng.random() < 0.4)
        for role in staff:
            w.tie(net.leader, add(role), "communication")
        left = max(size - len(net.members), 3)
        n_cells = max(1, round(left / CELL_SIZE))
        shares = allocate_sizes(rng, left, n_cells)
        head_degree = float(len(net.members))
        # Past a handful of cells the head works through lieutenants, each over a few crews.
        lieutenants = [add(Role.DISTRIBUTOR) for _ in range(-(-len(shares) // 5))]
        if len(lieutenants) > 1:
            for lt in lieutenants:
                self.supply(net.leader, lt)
        for k, cell_size in enumerate(shares):
            if len(lieutenants) > 1:
                crew_leader = add(Role.DISTRIBUTOR)
                self.supply(lieutenants[k % len(lieutenants)], crew_leader)
            else:
                # With one lieutenant, that lieutenant leads the first crew.
                crew_leader = lieutenants[0] if k == 0 else add(Role.DISTRIBUTOR)
                self.supply(net.leader, crew_leader)
            # The head deals directly inside its first crews only.
            head_w = head_degree if k < HEAD_CELLS else 0.0
            crew, new_degree = self._cell(
                net.leader, head_w, crew_leader, max(int(cell_size), 2), add
            )
            if k < HEAD_CELLS:
                head_degree = new_degree
            kind = OrganizationKind.GANG if rng.random() < 0.5 else OrganizationKind.CREW
            word = nm.pick(rng, nm.GANG_WORDS_A)
            name = f"{word} {nm.pick(rng, nm.GANG_WORDS_B)}"
            if rng.random() < 0.4:
                name = f"{word} {c.area_codes[0]} {nm.pick(rng, nm.GANG_WORDS_B)}"
            org = self.org(name, kind, (name.replace(" ", ""),), net.idx, spec.cartel)
            for m in crew:
                w.persons[m].crew = org
            net.crews.append(crew)
            net.crew_orgs.append(org)
        # Brokers between cells: a member of one cell deals with a member of the next.
        for a_cell, b_cell in itertools.pairwise(net.crews):
            if rng.random() < 0.6:
                a = a_cell[int(rng.integers(len(a_cell)))]
                b = b_cell[int(rng.integers(len(b_cell)))]
                w.tie(a, b, "association")
        self._families(net)
        return net

    def _families(self, net: Network) -> None:
        """Relatives inside crews: one surname, one household (address, often a phone); some
        are a father and son of one full name (Jr. and Sr.)."""
        rng = self.rng
        w = self.w
        for crew in net.crews:
            if len(crew) >= 3 and rng.random() < 0.35:
                a, b = (int(x) for x in rng.choice(crew, size=2, replace=False))
                pa, pb = w.persons[a], w.persons[b]
                pb.family = pa.family
                pb.hispanic = pa.hispanic
                pb.address, pb.zip, pb.moved = pa.address, pa.zip, pa.moved
                if rng.random() < 0.3 and pa.sex == pb.sex == Sex.MALE:
                    pb.given = pa.given
                    pb.dob = pa.dob + timedelta(days=int(rng.integers(20 * 365, 32 * 365)))
                    pa.suffix, pb.suffix = "Sr.", "Jr."
                pa.relatives.append(b)
                pb.relatives.append(a)
                w.tie(a, b, "family")

    def namesakes(self) -> None:
        """Namesakes: people of one city who share a common full name, born close together."""
        rng = self.rng
        w = self.w
        by_city: dict[str, list[int]] = {}
        for p in w.persons:
            if not p.in_mexico and not p.civilian:
                by_city.setdefault(p.city, []).append(p.idx)
        for people in by_city.values():
            for i in people:
                if rng.random() < 0.03 and len(people) > 1:
                    j = people[int(rng.integers(len(people)))]
                    pi, pj = w.persons[i], w.persons[j]
                    if i == j or pi.relatives or pj.relatives or pi.sex != pj.sex:
                        continue
                    pi.given, pi.family, pi.hispanic = pj.given, pj.family, pj.hispanic
                    pi.dob = pj.dob + timedelta(days=int(rng.integers(-700, 700)))

    def civilians(self) -> None:
        """Non-criminal contacts: partners, relatives, co-workers, lawyers and businesses."""
        rng = self.rng
        w = self.w
        for net in list(w.networks):
            if net.kind not in ("local", "hub"):
                continue
            members = list(net.members)

            def add(near: Person, net: Network = net) -> int:
                share = 0.6 if near.hispanic else 0.3
                return self.person(
                    net.idx, "", Role.ASSOCIATE, near.city, near.state, near.area,
                    hispanic_share=share, civilian=True,
                )  # fmt: skip

            for m in members:
                p = w.persons[m]
                if rng.random() < PARTNER_P:
                    q = add(p)
                    w.persons[q].address, w.persons[q].zip = p.address, p.zip
                    w.tie(m, q, "partner")
                if rng.random() < CIVIL_RELATIVE_P:
                    q = add(p)
                    w.persons[q].family = p.family
                    w.tie(m, q, "family")
                if rng.random() < WORKPLACE_P:
                    w.tie(m, add(p), "workplace")
            leader = w.persons[net.leader]
            for _ in range(1 + len(members) // 60):
                lawyer = add(leader)
                for m in members:
                    role = w.persons[m].role
                    if m == net.leader or (role == Role.DISTRIBUTOR and rng.random() < 0.5):
                        w.tie(m, lawyer, "lawyer")
            if rng.random() < 0.5:
                owner = add(leader)
                w.tie(net.leader, owner, "business")
                for m in members:
                    if w.persons[m].role == Role.MONEY_LAUNDERER:
                        w.tie(m, owner, "business")

    def cross_links(self, local_ids: list[int], broker_net: Network) -> None:
        """Suppliers who serve two networks, and independent brokers who serve both cartels."""
        rng = self.rng
        w = self.w
        by_div: dict[str, list[int]] = {}
        for i in local_ids:
            by_div.setdefault(w.networks[i].division, []).append(i)
        for nets in by_div.values():
            for i in nets:
                if len(nets) > 1 and rng.random() < 0.12:
                    j = nets[int(rng.integers(len(nets)))]
                    if j != i:
                        crews = w.networks[i].crews
                        crew_leader = crews[int(rng.integers(len(crews)))][0]
                        w.tie(w.networks[j].leader, crew_leader, "supply")
        hubs = sorted(w.hubs.items())
        for k, b in enumerate(broker_net.members):
            for cartel in ("Sinaloa", "Jalisco"):
                pick = [h for (_, ca), h in hubs if ca == cartel]
                hub = w.networks[pick[(k * 3 + (cartel == "Jalisco")) % len(pick)]]
                w.tie(b, hub.leader, "supply")
                w.tie(b, w.networks[w.cartel_net[cartel]].crews[k % 5][0], "communication")

    # -- phones ----------------------------------------------------------------------------

    def phones(self, targeted: set[int]) -> None:
        rng = self.rng
        w = self.w
        shared_done: set[int] = set()
        for p in w.persons:
            new = w.phones.mx if p.in_mexico else w.phones.us
            # Burners are for working phones: someone with the habit whose phone carries
            # real traffic (an investigation targets it). Others keep one number.
            p.burner = p.burner and p.idx in targeted
            if p.burner:
                # A chain of burners, each replaced after two to six weeks; the first one
                # was bought some time before the toll records begin.
                start = 0
                end = COMM_FROM + int(rng.integers(0, 42))
                prev = -1
                while True:
                    last = end >= COMM_TO
                    line = w.add_line(new(p.area), p.idx, 0, start, FOREVER if last else end)
                    if prev >= 0:
                        w.handovers.append((prev, line, start))
                    if last:
                        break
                    prev = line
                    start = end
                    end = start + int(rng.integers(14, 43))
            else:
                w.add_line(new(p.area), p.idx, 0, 0, FOREVER)
            if p.relatives and p.idx not in shared_done and rng.random() < 0.7:
                rel = p.relatives[0]
                line = w.add_line(new(p.area), p.idx, 1, 0, FOREVER)
                w.line_shared_with[line] = [rel]
                shared_done.update((p.idx, rel))
            elif p.idx not in shared_done and rng.random() < 0.25:
                # A second phone; hub people often keep a Mexican one for the suppliers.
                if (
                    not p.in_mexico
                    and p.role in (Role.SOURCE_OF_SUPPLY, Role.COURIER)
                    and (rng.random() < 0.5)
                ):
                    pl = PLAZAS[p.cartel][int(rng.integers(len(PLAZAS[p.cartel])))]
                    number = w.phones.mx(pl.area_code)
                else:
                    number = new(p.area)
                w.add_line(number, p.idx, 1, 0, FOREVER)
        # A crew's work phone (a "trap phone") that two or three members carry in turn.
        for net in w.networks:
            for crew in net.crews:
                free = [m for m in crew if m not in shared_done and not w.persons[m].in_mexico]
                if len(free) >= 3 and rng.random() < 0.25:
                    users = [int(x) for x in rng.choice(free, size=3, replace=False)]
                    p0 = w.persons[users[0]]
                    line = w.add_line(w.phones.us(p0.area), users[0], 1, 0, FOREVER)
                    w.line_shared_with[line] = users[1:]
                    shared_done.update(users)
        # A burner passed on: a targeted person's old phone goes to a crew-mate.
        for old, _new, day in list(w.handovers):
            owner = w.persons[w.line_owner[old]]
            if owner.crew < 0 or rng.random() >= 0.1:
                continue
            mates = [
                m for m in w.networks[owner.network].members if w.persons[m].crew == owner.crew
            ]
            mates = [m for m in mates if m != owner.idx and m not in shared_done]
            if mates:
                mate = mates[int(rng.integers(len(mates)))]
                w.line_passed[old] = (mate, day)
                shared_done.add(mate)

    def customers(self, divisions: list[str]) -> None:
        """Anonymous customers per city (about four per dealer), in contiguous blocks so a
        crew's customers come from one territory."""
        rng = self.rng
        w = self.w
        base = len(w.persons)
        dealers: dict[tuple[str, str], int] = {}
        for p in w.persons:
            if p.role == Role.DEALER:
                div = w.networks[p.network].division
                dealers[(div, p.city)] = dealers.get((div, p.city), 0) + 1
        for div in divisions:
            lo_div = base + len(w.customer_division)
            for c in GEO[div].cities:
                # About four customers per dealer, as far as the city's 555 numbers go.
                room = sum(w.phones.free(a) for a in c.area_codes)
                n = min(10 + 4 * dealers.get((div, c.name), 0), int(room * 0.9))
                lo = base + len(w.customer_division)
                for _ in range(n):
                    open_ = [a for a in c.area_codes if w.phones.free(a) > 0]
                    area = open_[int(rng.integers(len(open_)))]
                    w.add_line(w.phones.us(area), base + len(w.customer_division), 0, 0, FOREVER)
                    w.customer_division.append(div)
                w.customer_city[(div, c.name)] = (lo, base + len(w.customer_division))
            w.customer_pool[div] = (lo_div, base + len(w.customer_division))


def allocate_sizes(rng: np.random.Generator, total: int, k: int) -> np.ndarray:
    """Split ``total`` people into ``k`` cells of uneven size (each at least 2)."""
    weights = rng.dirichlet(np.full(k, 1.5))
    sizes = np.maximum(2, np.round(weights * total)).astype(np.int64)
    return sizes


def _zip_prefix(city: str) -> str:
    return f"{(sum(ord(ch) * (i + 1) for i, ch in enumerate(city)) % 899) + 100:03d}"


def build(
    rng: np.random.Generator,
    specs: list[NetworkSpec],
    hub_choice: list[tuple[str, str]],
    phones: PhoneBook,
    max_local: int = LOCAL_SIZE_MAX,
) -> tuple[World, list[int]]:
    """The world's people and networks, and for each spec the index of the local network
    built for it; ``furnish`` gives them phones once investigations have chosen targets.

    ``hub_choice[i]`` is the (hub city, cartel) that supplies spec i; ``phones`` is shared
    with the agencies so no suspect gets a point of contact's number; ``max_local`` caps the
    size of local networks (the tiny operation keeps them readable).
    """
    b = _Builder(rng, World(phones=phones), max_local)
    for cartel in ("Sinaloa", "Jalisco"):
        b.w.cartel_net[cartel] = b.cartel(cartel).idx
    for city, division in HUB_CITIES:
        for cartel in ("Sinaloa", "Jalisco"):
            b.w.hubs[(city, cartel)] = b.hub(city, division, cartel).idx
    local_ids = [
        b.local(spec, b.w.networks[b.w.hubs[hub_choice[i]]]).idx for i, spec in enumerate(specs)
    ]
    broker_net = b.brokers(4)
    b.w.broker_net = broker_net.idx
    b.cross_links(local_ids, broker_net)
    b.namesakes()
    b.civilians()
    b.w.divisions = sorted({s.division for s in specs} | {d for _, d in HUB_CITIES})
    b.w.index_ties()
    return b.w, local_ids


def furnish(rng: np.random.Generator, w: World, targeted: set[int]) -> None:
    """Phone lines for everyone: burner chains for the ``targeted`` people in the habit
    (people some investigation looks at), one number for the rest, second, family and crew
    phones, burners passed on, and the customers' phones."""
    b = _Builder(rng, w)
    b.phones(targeted)
    b.customers(w.divisions)
    w.index_lines()
