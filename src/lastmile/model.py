"""The vocabulary of lastmile, in one place.

Every record type the system ingests is described here as data: its interchange file, its
columns, their types, which are required and what values they allow. The store's schema, the
ingest validator and ``docs/format.md`` are all derived from these descriptions, so a column
added here appears everywhere at once (the habit is followthemoney's: the model is data).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class AgencyKind(StrEnum):
    FEDERAL = "federal"
    STATE = "state"
    LOCAL = "local"
    TRIBAL = "tribal"


class InvestigationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    SUSPENDED = "suspended"


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"
    UNKNOWN = "U"


class Role(StrEnum):
    """What a subject does in the trade, as the investigation states it."""

    LEADER = "leader"
    PLAZA_BOSS = "plaza_boss"
    SOURCE_OF_SUPPLY = "source_of_supply"
    BROKER = "broker"
    DISTRIBUTOR = "distributor"
    DEALER = "dealer"
    COURIER = "courier"
    MONEY_LAUNDERER = "money_launderer"
    ENFORCER = "enforcer"
    CUSTOMER = "customer"
    ASSOCIATE = "associate"
    OTHER = "other"


class OrganizationKind(StrEnum):
    CARTEL = "cartel"
    DTO = "dto"  # drug trafficking organization
    GANG = "gang"
    CREW = "crew"
    BUSINESS = "business"
    OTHER = "other"


class SelectorKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    ACCOUNT = "account"  # an app or social-media account; needs a platform
    IMEI = "imei"
    PLATE = "plate"
    VIN = "vin"
    CRYPTO_WALLET = "crypto_wallet"
    IP = "ip"


class PlatformClass(StrEnum):
    SOCIAL_MEDIA = "social_media"
    ENCRYPTED = "encrypted"
    OTHER = "other"


class Platform(StrEnum):
    FACEBOOK = "Facebook"
    INSTAGRAM = "Instagram"
    TIKTOK = "TikTok"
    SNAPCHAT = "Snapchat"
    WHATSAPP = "WhatsApp"
    TELEGRAM = "Telegram"
    SIGNAL = "Signal"
    WIRE = "Wire"
    WICKR = "Wickr"
    MESSENGER = "Messenger"
    X = "X"
    THREADS = "Threads"
    YOUTUBE = "YouTube"
    REDDIT = "Reddit"
    DISCORD = "Discord"
    KIK = "Kik"
    WECHAT = "WeChat"
    VIBER = "Viber"
    LINE = "LINE"
    IMESSAGE = "iMessage"
    THREEMA = "Threema"
    SESSION = "Session"
    CASHAPP = "Cash App"
    VENMO = "Venmo"
    ZELLE = "Zelle"
    PAYPAL = "PayPal"


# The operation's counting rule (docs/methodology.md): these four are "social media" and these
# five are "encrypted". A report may add more social-media platforms; the defaults stay here.
SOCIAL_MEDIA_DEFAULT: frozenset[Platform] = frozenset(
    {Platform.FACEBOOK, Platform.INSTAGRAM, Platform.TIKTOK, Platform.SNAPCHAT}
)
ENCRYPTED_DEFAULT: frozenset[Platform] = frozenset(
    {Platform.WHATSAPP, Platform.TELEGRAM, Platform.SIGNAL, Platform.WIRE, Platform.WICKR}
)

# Spellings analysts and exports use for the same platform.
PLATFORM_SYNONYMS: dict[str, Platform] = {
    "fb": Platform.FACEBOOK,
    "ig": Platform.INSTAGRAM,
    "insta": Platform.INSTAGRAM,
    "tik tok": Platform.TIKTOK,
    "snap": Platform.SNAPCHAT,
    "whats app": Platform.WHATSAPP,
    "wa": Platform.WHATSAPP,
    "tg": Platform.TELEGRAM,
    "wickr me": Platform.WICKR,
    "wickrme": Platform.WICKR,
    "facebook messenger": Platform.MESSENGER,
    "twitter": Platform.X,
    "cashapp": Platform.CASHAPP,
}


class CommunicationKind(StrEnum):
    CALL = "call"
    TEXT = "text"  # SMS / MMS
    APP_MESSAGE = "app_message"
    APP_CALL = "app_call"


class RelationshipKind(StrEnum):
    SUPPLIES = "supplies"
    MEMBER_OF = "member_of"
    ASSOCIATE = "associate"
    FAMILY = "family"
    USES_SELECTOR = "uses_selector"
    OWNS = "owns"
    LINKED_TO = "linked_to"  # a platform links two selectors (an account's phone or email)
    CONTACT_OF = "contact_of"  # an account is a contact or follower of another


class Drug(StrEnum):
    FENTANYL = "fentanyl"
    METHAMPHETAMINE = "methamphetamine"
    COCAINE = "cocaine"
    HEROIN = "heroin"
    CANNABIS = "cannabis"
    OTHER = "other"


DRUG_SYNONYMS: dict[str, Drug] = {
    "meth": Drug.METHAMPHETAMINE,
    "ice": Drug.METHAMPHETAMINE,
    "marijuana": Drug.CANNABIS,
    "coke": Drug.COCAINE,
}


class Form(StrEnum):
    PILL = "pill"
    POWDER = "powder"
    CRYSTAL = "crystal"
    LIQUID = "liquid"
    PLANT = "plant"


class Unit(StrEnum):
    COUNT = "count"
    G = "g"
    KG = "kg"
    OZ = "oz"
    LB = "lb"


class FirearmType(StrEnum):
    HANDGUN = "handgun"
    RIFLE = "rifle"
    SHOTGUN = "shotgun"
    MACHINE_GUN = "machine_gun"
    PRIVATELY_MADE = "privately_made"  # "ghost gun"
    OTHER = "other"


class SourceReliability(StrEnum):
    """Admiralty grade of the source: A (completely reliable) to F (cannot be judged)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class InfoCredibility(StrEnum):
    """Admiralty grade of the information: 1 (confirmed) to 6 (cannot be judged)."""

    CONFIRMED = "1"
    PROBABLY_TRUE = "2"
    POSSIBLY_TRUE = "3"
    DOUBTFUL = "4"
    IMPROBABLE = "5"
    CANNOT_BE_JUDGED = "6"


# DEA's 23 domestic field divisions, by the short names DEA uses in its announcements.
DIVISIONS: tuple[str, ...] = (
    "Atlanta",
    "Caribbean",
    "Chicago",
    "Dallas",
    "Detroit",
    "El Paso",
    "Houston",
    "Los Angeles",
    "Louisville",
    "Miami",
    "New England",
    "New Jersey",
    "New Orleans",
    "New York",
    "Omaha",
    "Philadelphia",
    "Phoenix",
    "Rocky Mountain",
    "San Diego",
    "San Francisco",
    "Seattle",
    "St. Louis",
    "Washington",
)
DIVISION_SYNONYMS: dict[str, str] = {
    "denver": "Rocky Mountain",
    "rocky mountain division": "Rocky Mountain",
    "saint louis": "St. Louis",
    "st louis": "St. Louis",
    "washington dc": "Washington",
    "boston": "New England",
}

# USPS codes of the states, DC and the territories an investigation can sit in.
# fmt: off
STATES: tuple[str, ...] = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL",
    "IN", "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE",
    "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD",
    "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "PR", "VI", "GU", "AS", "MP",
)
# fmt: on

# Cartels as agencies name them; the canonical name is what reports group by.
CARTELS: tuple[str, ...] = (
    "Sinaloa",
    "Jalisco",
    "Gulf",
    "Juarez",
    "Beltran-Leyva",
    "Northeast",
    "La Familia Michoacana",
)
CARTEL_SYNONYMS: dict[str, str] = {
    "cjng": "Jalisco",
    "jalisco new generation": "Jalisco",
    "jalisco new generation cartel": "Jalisco",
    "cartel de jalisco nueva generacion": "Jalisco",
    "cartel jalisco nueva generación": "Jalisco",
    "jalisco cartel": "Jalisco",
    "sinaloa cartel": "Sinaloa",
    "cartel de sinaloa": "Sinaloa",
    "cds": "Sinaloa",
    "gulf cartel": "Gulf",
    "cartel del golfo": "Gulf",
    "cdg": "Gulf",
    "blo": "Beltran-Leyva",
    "beltran leyva": "Beltran-Leyva",
    "cdn": "Northeast",
    "cartel del noreste": "Northeast",
    "lfm": "La Familia Michoacana",
}


# --------------------------------------------------------------------------------------------
# Record types as data
# --------------------------------------------------------------------------------------------


class ColumnType(StrEnum):
    ID = "id"  # non-empty text, at most 200 characters, unique within the record type
    REF = "ref"  # the id of a record of another type (in the store or in the same batch)
    TEXT = "text"
    LIST = "list"  # several values separated by "|"
    ENUM = "enum"
    DATE = "date"  # ISO 8601 calendar date, YYYY-MM-DD
    TIMESTAMP = "timestamp"  # ISO 8601 date and time; an offset is converted to UTC
    DECIMAL = "decimal"  # a non-negative number
    INTEGER = "integer"  # a non-negative whole number
    FRACTION = "fraction"  # a number from 0 to 1
    SELECTOR = "selector"  # a phone, email, account... kept raw and stored normalized


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    doc: str = ""
    example: str = ""
    values: tuple[str, ...] = ()  # allowed values for ENUM (canonical spellings)
    synonyms: dict[str, str] = field(default_factory=dict)  # lower-case spelling -> canonical
    references: str = ""  # REF: the record type(s) referenced, "|"-separated
    # The schema version that added the column to a stored table: such a column is stored
    # after the provenance columns, where ALTER TABLE puts it (0: in the table from the start).
    since: int = 0
    # DATE and TIMESTAMP: a year outside 1900-2100, or a value after the day of ingest (plus a
    # margin), rejects the row. A date of birth is not an event: a mistyped year must not cost
    # the record of a real person and every record that names it, so it is kept as written and
    # the resolver treats it as unknown.
    implausible_rejected: bool = True

    @property
    def sql_type(self) -> str:
        return {
            ColumnType.DATE: "DATE",
            ColumnType.TIMESTAMP: "TIMESTAMP",
            ColumnType.DECIMAL: "DOUBLE PRECISION",
            ColumnType.FRACTION: "DOUBLE PRECISION",
            ColumnType.INTEGER: "BIGINT",
        }.get(self.type, "TEXT")


@dataclass(frozen=True)
class RecordType:
    """One kind of record: one interchange file and one store table."""

    name: str  # table name, and the interchange file is ``{name}.csv``
    doc: str
    columns: tuple[Column, ...]
    id_column: str = ""  # empty: the record has no id of its own and is keyed by content
    # The column naming the investigation the record belongs to (its agency follows from it).
    investigation_column: str = "investigation_id"

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def _enum(
    name: str,
    values: type[StrEnum] | tuple[str, ...],
    *,
    required: bool = False,
    doc: str = "",
    example: str = "",
    synonyms: dict[str, str] | None = None,
) -> Column:
    allowed = tuple(v.value for v in values) if isinstance(values, type) else values
    return Column(
        name,
        ColumnType.ENUM,
        required=required,
        doc=doc,
        example=example or allowed[0],
        values=allowed,
        synonyms={k: str(v) for k, v in (synonyms or {}).items()},
    )


def _investigation_ref() -> Column:
    return Column(
        "investigation_id",
        ColumnType.REF,
        required=True,
        references="investigations",
        doc="The investigation that holds this record.",
        example="DEA-RM-2022-0007",
    )


def _place() -> tuple[Column, ...]:
    return (
        Column("city", ColumnType.TEXT, example="Denver"),
        _enum("state", tuple(STATES), doc="USPS code.", example="CO"),
    )


# Every file may carry these; a blank grade means "unknown".
GRADE_COLUMNS: tuple[Column, ...] = (
    _enum(
        "source_reliability",
        SourceReliability,
        doc="Admiralty grade of the source, A (reliable) to F (cannot be judged); blank: unknown.",
        example="B",
    ),
    _enum(
        "info_credibility",
        InfoCredibility,
        doc="Admiralty grade of the information, 1 (confirmed) to 6; blank: unknown.",
        example="2",
    ),
)

AGENCIES = RecordType(
    "agencies",
    "The agencies taking part, with the point of contact that deconfliction discloses.",
    (
        Column("agency_id", ColumnType.ID, required=True, example="DEA"),
        Column("name", ColumnType.TEXT, required=True, example="Drug Enforcement Administration"),
        _enum("kind", AgencyKind, required=True),
        Column("poc_name", ColumnType.TEXT, doc="Point of contact.", example="SA Jordan Vale"),
        Column("poc_phone", ColumnType.SELECTOR, doc="Stored in E.164.", example="303-555-0142"),
        Column("poc_email", ColumnType.SELECTOR, example="j.vale@example.gov"),
    ),
    id_column="agency_id",
    investigation_column="",
)

INVESTIGATIONS = RecordType(
    "investigations",
    "One case of one agency.",
    (
        Column("investigation_id", ColumnType.ID, required=True, example="DEA-RM-2022-0007"),
        Column("agency_id", ColumnType.REF, required=True, references="agencies", example="DEA"),
        Column("case_number", ColumnType.TEXT, example="RM-22-0007"),
        _enum(
            "division",
            DIVISIONS,
            required=True,
            doc="DEA field division, by its short name (case-insensitive).",
            example="Rocky Mountain",
            synonyms=DIVISION_SYNONYMS,
        ),
        *_place(),
        Column("opened", ColumnType.DATE, required=True, example="2022-05-16"),
        Column("closed", ColumnType.DATE, doc="Blank while open.", example="2023-02-01"),
        _enum("status", InvestigationStatus),
        _enum(
            "cartel",
            CARTELS,
            doc="The cartel the agency names as the source, if any.",
            example="Sinaloa",
            synonyms=CARTEL_SYNONYMS,
        ),
    ),
    id_column="investigation_id",
    investigation_column="investigation_id",
)

SUBJECTS = RecordType(
    "subjects",
    "A person as one investigation describes them. The resolver decides who is who.",
    (
        Column("subject_id", ColumnType.ID, required=True, example="DEA-RM-2022-0007-S01"),
        _investigation_ref(),
        Column(
            "full_name",
            ColumnType.TEXT,
            doc="As written in the case file.",
            example="José Luis Ramírez Ochoa",
        ),
        Column("given_name", ColumnType.TEXT, example="José Luis"),
        Column("middle_name", ColumnType.TEXT),
        Column("family_name", ColumnType.TEXT, example="Ramírez Ochoa"),
        Column("aliases", ColumnType.LIST, example="Joe Ramirez|Luis Ochoa"),
        Column("monikers", ColumnType.LIST, doc="Street names.", example="El Güero"),
        Column(
            "dob",
            ColumnType.DATE,
            doc="Kept even when implausible (future, before 1900); resolution then ignores it.",
            example="1988-03-14",
            implausible_rejected=False,
        ),
        _enum("sex", Sex, synonyms={"male": "M", "female": "F", "unknown": "U"}),
        Column("addresses", ColumnType.LIST, example="1200 Example St, Denver, CO"),
        _enum("role", Role),
        Column(
            "identifiers",
            ColumnType.LIST,
            doc="Personal identifiers as kind:value: ssn, fbi, dl, passport, a_number, "
            "state_id, other (docs/selectors.md, 'Identifiers'). A malformed one is kept and "
            "flagged, never used to match.",
            example="dl:CO-123456789|passport:MX-G12345678",
            since=5,
        ),
    ),
    id_column="subject_id",
)

ORGANIZATIONS = RecordType(
    "organizations",
    "A cartel, drug trafficking organization, gang, crew or business named in an investigation.",
    (
        Column("organization_id", ColumnType.ID, required=True, example="DEA-RM-2022-0007-O1"),
        _investigation_ref(),
        Column("name", ColumnType.TEXT, required=True, example="Sinaloa Cartel"),
        _enum("kind", OrganizationKind, required=True, example="cartel"),
        Column("aliases", ColumnType.LIST, example="CDS|Chapitos"),
    ),
    id_column="organization_id",
)

SELECTORS = RecordType(
    "selectors",
    "A phone, email, account, device, vehicle, wallet or address seen in an investigation.",
    (
        Column("selector_id", ColumnType.ID, required=True, example="DEA-RM-2022-0007-P01"),
        _investigation_ref(),
        Column(
            "subject_id",
            ColumnType.REF,
            references="subjects",
            doc="The subject record that uses it, when known.",
            example="DEA-RM-2022-0007-S01",
        ),
        _enum("kind", SelectorKind, required=True),
        Column(
            "value",
            ColumnType.SELECTOR,
            required=True,
            doc="As written; stored raw and normalized (docs/format.md, 'Selectors').",
            example="(303) 555-0187",
        ),
        _enum(
            "platform",
            tuple(p.value for p in Platform),
            doc="Required for kind=account; for a phone, the app it is registered on, if any.",
            example="Snapchat",
            synonyms={k: v.value for k, v in PLATFORM_SYNONYMS.items()},
        ),
    ),
    id_column="selector_id",
)

COMMUNICATIONS = RecordType(
    "communications",
    "One call, text or app message between two selectors (a toll record or platform return).",
    (
        Column(
            "communication_id",
            ColumnType.TEXT,
            doc="Optional. Events are keyed by content, so one event in two returns is "
            "stored once.",
            example="RM7-000123",
        ),
        _investigation_ref(),
        Column("time", ColumnType.TIMESTAMP, required=True, example="2022-07-04T21:15:09-06:00"),
        Column("from_selector", ColumnType.SELECTOR, required=True, example="+13035550187"),
        Column("to_selector", ColumnType.SELECTOR, required=True, example="+523312345678"),
        _enum("kind", CommunicationKind, required=True),
        _enum(
            "platform",
            tuple(p.value for p in Platform),
            doc="Required for app messages and app calls.",
            example="WhatsApp",
            synonyms={k: v.value for k, v in PLATFORM_SYNONYMS.items()},
        ),
        Column("duration_s", ColumnType.INTEGER, doc="Seconds; calls only.", example="74"),
    ),
)

RELATIONSHIPS = RecordType(
    "relationships",
    "A tie an investigation states between two of its records.",
    (
        Column("relationship_id", ColumnType.ID, required=True, example="DEA-RM-2022-0007-R01"),
        _investigation_ref(),
        _enum("kind", RelationshipKind, required=True),
        Column(
            "from_id",
            ColumnType.REF,
            required=True,
            references="subjects|organizations|selectors",
            doc="A subject, organization or selector id. For supplies: the supplier.",
            example="DEA-RM-2022-0007-S01",
        ),
        Column(
            "to_id",
            ColumnType.REF,
            required=True,
            references="subjects|organizations|selectors",
            example="DEA-RM-2022-0007-S02",
        ),
        Column("since", ColumnType.DATE),
        Column("until", ColumnType.DATE),
    ),
    id_column="relationship_id",
)

ARRESTS = RecordType(
    "arrests",
    "One person arrested in an investigation.",
    (
        Column("arrest_id", ColumnType.ID, required=True, example="DEA-RM-2022-0007-A01"),
        _investigation_ref(),
        Column("subject_id", ColumnType.REF, references="subjects", example="DEA-RM-2022-0007-S01"),
        Column("date", ColumnType.DATE, required=True, example="2023-01-19"),
        *_place(),
        Column("charges", ColumnType.LIST, example="21 USC 841|21 USC 846"),
    ),
    id_column="arrest_id",
)

DRUG_SEIZURES = RecordType(
    "drug_seizures",
    "One drug exhibit: pills are counted, everything else is weighed.",
    (
        Column("seizure_id", ColumnType.ID, required=True, example="DEA-RM-2022-0007-D01"),
        _investigation_ref(),
        Column("date", ColumnType.DATE, required=True, example="2022-11-02"),
        *_place(),
        _enum("drug", Drug, required=True, synonyms={k: v.value for k, v in DRUG_SYNONYMS.items()}),
        _enum("form", Form, required=True, doc="pill needs unit count; the others a mass unit."),
        Column("quantity", ColumnType.DECIMAL, required=True, example="12000"),
        _enum(
            "unit",
            Unit,
            required=True,
            synonyms={
                "pills": "count",
                "each": "count",
                "grams": "g",
                "kilograms": "kg",
                "lbs": "lb",
                "pounds": "lb",
                "ounces": "oz",
            },
        ),
        Column(
            "purity",
            ColumnType.FRACTION,
            doc="Laboratory purity, 0 to 1, when tested.",
            example="0.09",
        ),
    ),
    id_column="seizure_id",
)

FIREARM_SEIZURES = RecordType(
    "firearm_seizures",
    "Firearms seized together.",
    (
        Column("seizure_id", ColumnType.ID, required=True, example="DEA-RM-2022-0007-F01"),
        _investigation_ref(),
        Column("date", ColumnType.DATE, required=True, example="2022-11-02"),
        *_place(),
        Column("count", ColumnType.INTEGER, required=True, example="3"),
        _enum("type", FirearmType, example="handgun"),
    ),
    id_column="seizure_id",
)

CURRENCY_SEIZURES = RecordType(
    "currency_seizures",
    "Currency seized together.",
    (
        Column("seizure_id", ColumnType.ID, required=True, example="DEA-RM-2022-0007-C01"),
        _investigation_ref(),
        Column("date", ColumnType.DATE, required=True, example="2022-11-02"),
        *_place(),
        Column("amount", ColumnType.DECIMAL, required=True, example="48250"),
        Column("currency", ColumnType.TEXT, doc="ISO 4217 code; blank means USD.", example="USD"),
        Column(
            "amount_usd",
            ColumnType.DECIMAL,
            doc="The value in US dollars; blank for USD (it is the amount). A foreign amount "
            "without it is reported separately, never guessed.",
            example="48250",
        ),
    ),
    id_column="seizure_id",
)


class PostLabel(StrEnum):
    """What screening concluded about a social-media post (docs/methodology.md, Screening)."""

    SALE = "sale"
    POSSIBLE = "possible"
    NONE = "none"


POSTS = RecordType(
    "posts",
    "A social-media post an analyst attached to an investigation (`lastmile screen "
    "--investigation`), with what screening found in it.",
    (
        Column("post_id", ColumnType.ID, required=True, example="IG-18234"),
        _investigation_ref(),
        _enum(
            "platform",
            tuple(p.value for p in Platform),
            doc="Where it was posted.",
            example="Instagram",
            synonyms={k: v.value for k, v in PLATFORM_SYNONYMS.items()},
        ),
        Column(
            "author", ColumnType.TEXT, doc="The author's handle as written.", example="blue_plug"
        ),
        Column(
            "author_selector_id",
            ColumnType.REF,
            references="selectors",
            doc="The selector record of the author's account.",
            example="DEA-RM-2022-0007-P07",
        ),
        Column("posted_at", ColumnType.TIMESTAMP, example="2022-07-04T21:15:09Z"),
        Column("text", ColumnType.TEXT, doc="The post as written.", example="blues 💊 tap in"),
        _enum("label", PostLabel, doc="Screening's conclusion.", example="sale"),
        Column("score", ColumnType.FRACTION, doc="Screening's score, 0 to 1.", example="0.93"),
        Column("indicators", ColumnType.LIST, example="emoji:💊|slang:blues|cta:DM"),
        Column("drugs", ColumnType.LIST, doc="The drugs the post implies.", example="fentanyl"),
        Column(
            "selectors",
            ColumnType.LIST,
            doc="Contact selectors found in the text, as selector keys.",
            example="phone:+13035550187|account:snapchat:blue_plug",
        ),
    ),
    id_column="post_id",
)

# Load order: a record may reference records of the types before it.
RECORD_TYPES: tuple[RecordType, ...] = (
    AGENCIES,
    INVESTIGATIONS,
    SUBJECTS,
    ORGANIZATIONS,
    SELECTORS,
    COMMUNICATIONS,
    RELATIONSHIPS,
    ARRESTS,
    DRUG_SEIZURES,
    FIREARM_SEIZURES,
    CURRENCY_SEIZURES,
    POSTS,
)
RECORD_TYPES_BY_NAME: dict[str, RecordType] = {rt.name: rt for rt in RECORD_TYPES}
