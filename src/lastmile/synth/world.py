"""The true world behind the records: people, organizations, networks and their selectors.

Two cartels (Sinaloa and Jalisco) run plazas in Mexico with plaza bosses, brokers and
couriers; brokers supply hub organizations in eight US hub cities; hubs supply regional
distribution networks in every division, each with crews or gangs of street dealers who sell
to customers. Investigations later see parts of this world (``records.py``); the truth files
describe it whole (``truth.py``).
"""

from __future__ import annotations

import itertools
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
    line_shared_with: dict[int, int] = field(default_factory=dict)  # family line -> relative
    handovers: list[tuple[int, int, int]] = field(default_factory=list)  # old, new, day
    accounts: list[Account] = field(default_factory=list)
    account_of: dict[tuple[int, Platform], int] = field(default_factory=dict)
    emails: list[tuple[int, str]] = field(default_factory=list)
    email_of: dict[int, int] = field(default_factory=dict)
    # Customers: anonymous people who only appear as the other end of a dealer's messages.
    customer_division: list[str] = field(default_factory=list)
    customer_pool: dict[str, tuple[int, int]] = field(default_factory=dict)  # div -> [lo, hi)
    cartel_net: dict[str, int] = field(default_factory=dict)  # cartel -> its Mexican network
    divisions: list[str] = field(default_factory=list)  # with customers, sorted
    phones: PhoneBook = field(default_factory=PhoneBook)
    _handles: set[str] = field(default_factory=set)
    _lines_by_owner: dict[int, list[int]] = field(default_factory=dict)
    _ties: dict[int, list[int]] = field(default_factory=dict)

    # -- queries ---------------------------------------------------------------------------

    def lines_of(self, person: int) -> list[int]:
        return self._lines_by_owner.get(person, [])

    def index_lines(self) -> None:
        by: dict[int, list[int]] = {}
        for i, o in enumerate(self.line_owner):
            by.setdefault(o, []).append(i)
        for line, rel in self.line_shared_with.items():
            by.setdefault(rel, []).append(line)
        self._lines_by_owner = by

    def ties(self, person: int) -> list[int]:
        """The people this person deals with: supplier, customers in the trade, crew, kin."""
        return self._ties.get(person, [])

    def index_ties(self) -> None:
        ties: dict[int, list[int]] = {}

        def add(a: int, b: int) -> None:
            if a != b:
                ties.setdefault(a, []).append(b)
                ties.setdefault(b, []).append(a)

        for p in self.persons:
            if p.supplier >= 0:
                add(p.idx, p.supplier)
            for r in p.relatives:
                if r > p.idx:
                    add(p.idx, r)
        for net in self.networks:
            for crew in net.crews:
                # Crew members talk to their crew leader (the first) and to one or two peers.
                for m in crew[1:]:
                    add(crew[0], m)
                for a, b in itertools.pairwise(crew[1:]):
                    add(a, b)
            if net.leader >= 0:
                for m in net.members:
                    role = self.persons[m].role
                    if role in (Role.COURIER, Role.MONEY_LAUNDERER, Role.ENFORCER):
                        add(net.leader, m)
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
    if hispanic:
        pool: tuple[str, ...] = nm.HISPANIC_FEMALE if female else nm.HISPANIC_MALE
        given: tuple[str, ...] = (nm.pick(rng, pool),)
        if rng.random() < 0.5:
            second = nm.pick(rng, pool)
            if second != given[0]:
                given += (second,)
        family = (nm.pick(rng, nm.HISPANIC_FAMILY), nm.pick(rng, nm.HISPANIC_FAMILY))
        return given, family
    pool = nm.OTHER_FEMALE if female else nm.OTHER_MALE
    given = (nm.pick(rng, pool),)
    if rng.random() < 0.3:
        middle = nm.pick(rng, pool)
        if middle != given[0]:
            given += (middle,)
    return given, (nm.pick(rng, nm.OTHER_FAMILY),)


class _Builder:
    def __init__(self, rng: np.random.Generator, w: World) -> None:
        self.rng = rng
        self.w = w

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
    ) -> int:
        rng = self.rng
        hispanic = in_mexico or rng.random() < hispanic_share
        female = rng.random() < 0.15
        given, family = _name(rng, hispanic, female)
        pool = nm.MONIKERS_ES if hispanic else nm.MONIKERS_EN
        k = int(rng.choice(3, p=[0.35, 0.5, 0.15]))
        monikers = tuple(dict.fromkeys(nm.pick(rng, pool) for _ in range(k)))
        aliases: tuple[str, ...] = ()
        if rng.random() < 0.25:
            g2, f2 = _name(rng, hispanic, female)
            aliases = (f"{g2[0]} {f2[0]}",)
        dob = date(1965, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 38)))
        number = int(rng.integers(100, 9900))
        street = f"{nm.pick(rng, nm.STREETS)} {nm.pick(rng, nm.STREET_SUFFIX)}"
        address = (
            f"Calle {nm.pick(rng, nm.STREETS)} {number}, {city}, {state}"
            if in_mexico
            else f"{number} {street}, {city}, {state}"
        )
        activity = ROLE_ACTIVITY.get(role, 1.0) * (1.0 + float(rng.pareto(1.6)))
        burner = rng.random() < BURNER_SHARE.get(role, 0.1)
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
            activity=activity,
            burner=burner,
        )
        self.w.persons.append(p)
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

    # -- the three tiers -------------------------------------------------------------------

    def cartel(self, cartel: str) -> Network:
        rng = self.rng
        plazas = PLAZAS[cartel]
        net = self.network("cartel", cartel, "", plazas[0].city, plazas[0].state)
        names = CARTEL_ORG_NAMES[cartel]
        net.org = self.org(names[0], OrganizationKind.CARTEL, names[1:], net.idx, cartel)
        self.w.cartel_org[cartel] = net.org
        p0 = plazas[0]
        net.leader = self.person(
            net.idx, cartel, Role.LEADER, p0.city, p0.state, p0.area_code, in_mexico=True
        )
        self.person(net.idx, cartel, Role.LEADER, p0.city, p0.state, p0.area_code, True)
        for pl in plazas:
            boss = self.person(
                net.idx, cartel, Role.PLAZA_BOSS, pl.city, pl.state, pl.area_code, True
            )
            self.w.persons[boss].supplier = net.leader
            cell = [boss]
            for role in (Role.BROKER, Role.BROKER, Role.COURIER, Role.COURIER):
                m = self.person(net.idx, cartel, role, pl.city, pl.state, pl.area_code, True)
                self.w.persons[m].supplier = boss
                cell.append(m)
            if rng.random() < 0.5:
                cell.append(
                    self.person(
                        net.idx, cartel, Role.MONEY_LAUNDERER, pl.city, pl.state, pl.area_code, True
                    )
                )
            net.crews.append(cell)
        return net

    def hub(self, city: str, division: str, cartel: str) -> Network:
        rng = self.rng
        geo = GEO[division]
        c = next(x for x in geo.cities if x.name == city)
        net = self.network("hub", cartel, division, city, c.state)

        def add(role: Role) -> int:
            area = c.area_codes[int(rng.integers(len(c.area_codes)))]
            return self.person(net.idx, cartel, role, city, c.state, area, hispanic_share=0.85)

        net.leader = add(Role.SOURCE_OF_SUPPLY)
        leader = self.w.persons[net.leader]
        fam = leader.family[0]
        net.org = self.org(
            f"{nm.strip_accents(fam) if rng.random() < 0.5 else fam} Organization",
            OrganizationKind.DTO,
            (f"{fam} DTO", f"Los {fam}"),
            net.idx,
            cartel,
        )
        cartel_net = self.w.networks[self.w.cartel_net[cartel]]
        brokers = [m for m in cartel_net.members if self.w.persons[m].role == Role.BROKER]
        leader.supplier = brokers[int(rng.integers(len(brokers)))]
        lieutenants = [add(Role.DISTRIBUTOR) for _ in range(int(rng.integers(2, 4)))]
        for lt in lieutenants:
            self.w.persons[lt].supplier = net.leader
        crew = [net.leader, *lieutenants]
        for role in (
            [Role.COURIER] * int(rng.integers(3, 6))
            + [Role.MONEY_LAUNDERER] * int(rng.integers(1, 3))
            + [Role.ENFORCER]
        ):
            crew.append(add(role))
        net.crews.append(crew)
        return net

    def local(self, spec: NetworkSpec, hub_net: Network) -> Network:
        rng = self.rng
        geo = GEO[spec.division]
        c = geo.cities[spec.city_index % len(geo.cities)]
        net = self.network("local", spec.cartel, spec.division, c.name, c.state)

        def add(role: Role) -> int:
            area = c.area_codes[int(rng.integers(len(c.area_codes)))]
            return self.person(net.idx, spec.cartel, role, c.name, c.state, area)

        net.leader = add(Role.DISTRIBUTOR)
        leader = self.w.persons[net.leader]
        suppliers = [
            m
            for m in hub_net.members
            if self.w.persons[m].role in (Role.SOURCE_OF_SUPPLY, Role.DISTRIBUTOR)
        ]
        leader.supplier = suppliers[int(rng.integers(len(suppliers)))]
        fam = leader.family[0]
        net.org = self.org(
            f"{fam} DTO",
            OrganizationKind.DTO,
            (f"{nm.strip_accents(fam)} Drug Trafficking Organization", f"{fam} Organization"),
            net.idx,
            spec.cartel,
        )
        staff = [Role.COURIER] * int(rng.integers(1, 3))
        staff += [Role.MONEY_LAUNDERER] * int(rng.random() < 0.6)
        staff += [Role.ENFORCER] * int(rng.random() < 0.4)
        for role in staff:
            self.w.persons[add(role)].supplier = -1
        n_crews = int(rng.integers(1, 5))
        while len(net.crews) < n_crews or len(net.members) < spec.min_size:
            crew_leader = add(Role.DISTRIBUTOR)
            self.w.persons[crew_leader].supplier = net.leader
            crew = [crew_leader]
            for _ in range(int(rng.integers(2, 9))):
                d = add(Role.DEALER)
                self.w.persons[d].supplier = crew_leader
                crew.append(d)
            kind = OrganizationKind.GANG if rng.random() < 0.5 else OrganizationKind.CREW
            word = nm.pick(rng, nm.GANG_WORDS_A)
            name = f"{word} {nm.pick(rng, nm.GANG_WORDS_B)}"
            if rng.random() < 0.4:
                name = f"{word} {c.area_codes[0]} {nm.pick(rng, nm.GANG_WORDS_B)}"
            org = self.org(name, kind, (name.replace(" ", ""),), net.idx, spec.cartel)
            for m in crew:
                self.w.persons[m].crew = org
            net.crews.append(crew)
            net.crew_orgs.append(org)
        self._families(net)
        return net

    def _families(self, net: Network) -> None:
        """Some crews include relatives: same family name, and often a shared family phone."""
        rng = self.rng
        for crew in net.crews:
            if len(crew) >= 3 and rng.random() < 0.3:
                a, b = (int(x) for x in rng.choice(crew, size=2, replace=False))
                pa, pb = self.w.persons[a], self.w.persons[b]
                pb.family = pa.family
                pb.hispanic = pa.hispanic
                pa.relatives.append(b)
                pb.relatives.append(a)

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
                w.line_shared_with[line] = rel
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

    def customers(self, divisions: list[str]) -> None:
        """A pool of anonymous customers per division (about four per dealer)."""
        rng = self.rng
        w = self.w
        base = len(w.persons)
        dealers: dict[str, int] = {}
        for p in w.persons:
            if p.role == Role.DEALER:
                div = w.networks[p.network].division
                dealers[div] = dealers.get(div, 0) + 1
        for div in divisions:
            n = 20 + 4 * dealers.get(div, 0)
            lo = base + len(w.customer_division)
            cities = GEO[div].cities
            for _ in range(n):
                c = cities[int(rng.integers(len(cities)))]
                area = c.area_codes[int(rng.integers(len(c.area_codes)))]
                w.add_line(w.phones.us(area), base + len(w.customer_division), 0, 0, FOREVER)
                w.customer_division.append(div)
            w.customer_pool[div] = (lo, base + len(w.customer_division))


def build(
    rng: np.random.Generator,
    specs: list[NetworkSpec],
    hub_choice: list[tuple[str, str]],
    phones: PhoneBook,
) -> tuple[World, list[int]]:
    """The world's people and networks, and for each spec the index of the local network
    built for it; ``furnish`` gives them phones once investigations have chosen targets.

    ``hub_choice[i]`` is the (hub city, cartel) that supplies spec i; ``phones`` is shared
    with the agencies so no suspect gets a point of contact's number.
    """
    b = _Builder(rng, World(phones=phones))
    for cartel in ("Sinaloa", "Jalisco"):
        b.w.cartel_net[cartel] = b.cartel(cartel).idx
    for city, division in HUB_CITIES:
        for cartel in ("Sinaloa", "Jalisco"):
            b.w.hubs[(city, cartel)] = b.hub(city, division, cartel).idx
    local_ids = [
        b.local(spec, b.w.networks[b.w.hubs[hub_choice[i]]]).idx for i, spec in enumerate(specs)
    ]
    b.w.divisions = sorted({s.division for s in specs} | {d for _, d in HUB_CITIES})
    b.w.index_ties()
    return b.w, local_ids


def furnish(rng: np.random.Generator, w: World, targeted: set[int]) -> None:
    """Phone lines for everyone: burner chains for the ``targeted`` people in the habit
    (people some investigation looks at), one number for the rest, second and family phones,
    and the customers' phones."""
    b = _Builder(rng, w)
    b.phones(targeted)
    b.customers(w.divisions)
    w.index_lines()
