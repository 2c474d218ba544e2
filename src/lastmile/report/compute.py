"""The operation report, computed from the store.

The store is asked a handful of grouped questions in portable SQL (the same text runs on
DuckDB and PostgreSQL): per investigation and month, how many arrests, how much of each drug,
how many firearms and how much currency; and which platforms each investigation touches.
Everything after that is pure Python over those small tables (one row per investigation and
month), so the counting rules of ``docs/methodology.md`` read as code:

- an investigation counts when it overlaps the window: opened on or before ``to`` and not
  closed before ``from``;
- arrests and seizures count by their own date, within the window;
- an investigation involves a platform when any of its selector records or communications
  is on that platform; it counts for platform figures when it counts at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from lastmile.comms.owners import best_names
from lastmile.model import (
    DIVISION_SYNONYMS,
    DIVISIONS,
    ENCRYPTED_DEFAULT,
    SOCIAL_MEDIA_DEFAULT,
    Drug,
    Form,
    Unit,
)
from lastmile.store import Workspace
from lastmile.units import GRAMS_PER_UNIT, DoseArithmetic, DoseMethod, lb_figure

UNATTRIBUTED = "Unattributed"
UNKNOWN_STATE = "Unknown"


class ReportError(ValueError):
    """The report's options are not usable; the message is meant for the user."""


@dataclass(frozen=True)
class ReportOptions:
    date_from: date | None = None
    date_to: date | None = None
    division: str | None = None
    dose_method: DoseMethod = field(default_factory=DoseMethod)
    social_media: frozenset[str] = frozenset(p.value for p in SOCIAL_MEDIA_DEFAULT)
    encrypted: frozenset[str] = frozenset(p.value for p in ENCRYPTED_DEFAULT)
    title: str = "Operation report"
    command: str | None = None
    # The networks section's per-network detail: the largest networks with their key players
    # (names and entity ids) and the multi-city networks by id. People, not aggregates: off by
    # default, so that a report served to every signed-in user (the server's /api/report)
    # stays aggregate; lastmile report and lastmile demo turn it on.
    network_detail: bool = False

    def __post_init__(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ReportError(f"--from {self.date_from} is after --to {self.date_to}")


def canonical_division(name: str) -> str:
    """DEA's short name for a division, case-insensitive; raises ReportError if unknown."""
    key = name.strip().lower().removesuffix(" division").strip()
    for division in DIVISIONS:
        if division.lower() == key:
            return division
    if key in DIVISION_SYNONYMS:
        return DIVISION_SYNONYMS[key]
    raise ReportError(f"unknown division {name!r}; DEA's divisions are: {', '.join(DIVISIONS)}")


@dataclass
class Tally:
    """The counters one report row carries (a whole operation, a division, a state...)."""

    investigations: int = 0
    arrests: int = 0
    fentanyl_pills: float = 0.0
    # pills of every other drug, counted (they have no weight to convert): drug -> pills
    other_pills: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    grams: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    firearms: int = 0
    currency_usd: float = 0.0
    currency_other: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    platform_investigations: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    any_platform: int = 0  # social media or encrypted: the operation's published figure
    drug_seizures: int = 0
    social_media: int = 0
    encrypted: int = 0

    def __bool__(self) -> bool:
        """Whether there is anything to report."""
        return bool(
            self.investigations
            or self.arrests
            or self.fentanyl_pills
            or any(self.other_pills.values())
            or any(self.grams.values())
            or self.firearms
            or self.currency_usd
            or any(self.currency_other.values())
        )

    def seizures(self) -> dict[str, Any]:
        g = self.grams
        return {
            "fentanyl_pills": round(self.fentanyl_pills),
            "fentanyl_powder_lb": _lb(g[Drug.FENTANYL.value]),
            "methamphetamine_lb": _lb(g[Drug.METHAMPHETAMINE.value]),
            "cocaine_lb": _lb(g[Drug.COCAINE.value]),
            "heroin_lb": _lb(g[Drug.HEROIN.value]),
            "cannabis_lb": _lb(g[Drug.CANNABIS.value]),
            "other_drugs_lb": _lb(g[Drug.OTHER.value]),
            "other_pills": round(sum(self.other_pills.values())),
            "other_pills_by_drug": [
                {"drug": d, "pills": round(n)} for d, n in sorted(self.other_pills.items()) if n
            ],
            "firearms": self.firearms,
            "currency_usd": round(self.currency_usd, 2),
            "currency_other": [
                {"currency": c, "amount": round(a, 2)}
                for c, a in sorted(self.currency_other.items())
            ],
        }

    def doses(self, method: DoseMethod) -> int:
        return self.arithmetic(method).total

    def arithmetic(self, method: DoseMethod) -> DoseArithmetic:
        return method.arithmetic(self.fentanyl_pills, self.grams[Drug.FENTANYL.value])


def _lb(grams: float) -> float:
    return lb_figure(grams)


@dataclass
class InvestigationFacts:
    investigation_id: str
    division: str
    state: str
    cartel: str
    opened: date
    counted: bool  # overlaps the window
    platforms: set[str] = field(default_factory=set)
    tally: Tally = field(default_factory=Tally)
    attributed: str = UNATTRIBUTED  # the cartel attributed to its home network (analysis)


# -- reading the store -------------------------------------------------------------------


def _window(column: str, options: ReportOptions) -> tuple[str, list[Any]]:
    sql, params = "", []
    if options.date_from:
        sql += f" AND {column} >= ?"
        params.append(options.date_from)
    if options.date_to:
        sql += f" AND {column} <= ?"
        params.append(options.date_to)
    return sql, params


def _investigations(ws: Workspace, options: ReportOptions) -> dict[str, InvestigationFacts]:
    where, params = "WHERE 1 = 1", []
    if options.division:
        where += " AND lower(division) = lower(?)"
        params.append(canonical_division(options.division))
    rows = ws.store.rows(
        "SELECT investigation_id, division, state, cartel, opened, closed "
        f"FROM investigations {where}",
        params,
    )
    facts = {}
    for inv_id, division, state, cartel, opened, closed in rows:
        counted = (options.date_to is None or opened <= options.date_to) and (
            options.date_from is None or closed is None or closed >= options.date_from
        )
        facts[inv_id] = InvestigationFacts(
            inv_id, division, state or UNKNOWN_STATE, cartel or UNATTRIBUTED, opened, counted
        )
    return facts


def _month(year: Any, month: Any) -> str:
    return f"{int(year):04d}-{int(month):02d}"


def _load_outcomes(
    ws: Workspace,
    options: ReportOptions,
    facts: dict[str, InvestigationFacts],
    months: dict[str, Tally],
) -> None:
    """Add arrests and seizures, by their own date, to each investigation and month."""
    store = ws.store
    window, params = _window("date", options)
    month_sql = "EXTRACT(YEAR FROM date) AS y, EXTRACT(MONTH FROM date) AS m"

    for inv_id, y, m, n in store.rows(
        f"SELECT investigation_id, {month_sql}, count(*) FROM arrests WHERE 1 = 1 {window} "
        "GROUP BY 1, 2, 3",
        params,
    ):
        if inv_id in facts:
            facts[inv_id].tally.arrests += n
            months[_month(y, m)].arrests += n

    for inv_id, y, m, drug, form, unit, qty, n in store.rows(
        f"SELECT investigation_id, {month_sql}, drug, form, unit, sum(quantity), count(*) "
        f"FROM drug_seizures WHERE 1 = 1 {window} GROUP BY 1, 2, 3, 4, 5, 6",
        params,
    ):
        if inv_id not in facts:
            continue
        for tally in (facts[inv_id].tally, months[_month(y, m)]):
            tally.drug_seizures += n
            if unit == Unit.COUNT.value:
                if drug == Drug.FENTANYL.value and form == Form.PILL.value:
                    tally.fentanyl_pills += qty
                else:
                    tally.other_pills[drug] += qty
            else:
                tally.grams[drug] += qty * GRAMS_PER_UNIT[Unit(unit)]

    for inv_id, n in store.rows(
        f"SELECT investigation_id, sum(count) FROM firearm_seizures WHERE 1 = 1 {window} "
        "GROUP BY 1",
        params,
    ):
        if inv_id in facts:
            facts[inv_id].tally.firearms += int(n)

    # USD counts as itself; another currency counts by its stated USD value, and without one
    # it is listed apart in its own currency rather than converted at a guessed rate.
    for inv_id, currency, has_usd, amount, amount_usd in store.rows(
        "SELECT investigation_id, coalesce(currency, 'USD'), amount_usd IS NOT NULL, "
        f"sum(amount), sum(amount_usd) FROM currency_seizures WHERE 1 = 1 {window} "
        "GROUP BY 1, 2, 3",
        params,
    ):
        if inv_id not in facts:
            continue
        tally = facts[inv_id].tally
        if currency == "USD":
            tally.currency_usd += amount
        elif has_usd:
            tally.currency_usd += amount_usd
        else:
            tally.currency_other[currency] += amount


def _load_platforms(ws: Workspace, facts: dict[str, InvestigationFacts]) -> None:
    rows = ws.store.rows(
        "SELECT DISTINCT investigation_id, platform FROM selectors WHERE platform IS NOT NULL "
        "UNION "
        "SELECT DISTINCT s.investigation_id, c.platform FROM communications_sources s "
        "JOIN communications c ON c.event_key = s.event_key WHERE c.platform IS NOT NULL"
    )
    for inv_id, platform in rows:
        if inv_id in facts:
            facts[inv_id].platforms.add(platform)


def _load_opened(facts: Iterable[InvestigationFacts], months: dict[str, Tally]) -> None:
    for f in facts:
        if f.counted:
            months[_month(f.opened.year, f.opened.month)].investigations += 1


# -- summing up ----------------------------------------------------------------------------


def _add(total: Tally, f: InvestigationFacts, options: ReportOptions) -> None:
    t = f.tally
    if f.counted:
        total.investigations += 1
        social = bool(f.platforms & options.social_media)
        encrypted = bool(f.platforms & options.encrypted)
        total.any_platform += social or encrypted
        total.social_media += social
        total.encrypted += encrypted
        for p in f.platforms:
            total.platform_investigations[p] += 1
    total.arrests += t.arrests
    total.fentanyl_pills += t.fentanyl_pills
    for drug, pills in t.other_pills.items():
        total.other_pills[drug] += pills
    for drug, grams in t.grams.items():
        total.grams[drug] += grams
    total.firearms += t.firearms
    total.currency_usd += t.currency_usd
    for cur, amount in t.currency_other.items():
        total.currency_other[cur] += amount


def _row(name: str, tally: Tally, method: DoseMethod) -> dict[str, Any]:
    return {
        "name": name,
        "investigations": tally.investigations,
        "arrests": tally.arrests,
        "seizures": tally.seizures(),
        "deadly_doses": tally.doses(method),
        "platform_cases": {
            "any": tally.any_platform,
            "social_media": tally.social_media,
            "encrypted": tally.encrypted,
        },
    }


def _grouped(
    facts: Iterable[InvestigationFacts], key: str, options: ReportOptions
) -> list[dict[str, Any]]:
    groups: dict[str, Tally] = defaultdict(Tally)
    for f in facts:
        _add(groups[getattr(f, key)], f, options)
    # A group with anything to report stays, so that the groups add up to the totals (an
    # investigation outside the window can still hold a seizure inside it).
    rows = [_row(name, tally, options.dose_method) for name, tally in groups.items() if tally]
    return sorted(rows, key=lambda r: (-r["investigations"], r["name"]))


def _agency_kinds(ws: Workspace, investigations: set[str]) -> list[str]:
    """Which kinds of agency (federal, state, local, tribal) ran the counted investigations."""
    rows = ws.store.rows(
        "SELECT DISTINCT i.investigation_id, a.kind FROM investigations i "
        "JOIN agencies a ON a.agency_id = i.agency_id"
    )
    order = ["federal", "state", "local", "tribal"]
    kinds = {kind for inv_id, kind in rows if inv_id in investigations}
    return [k for k in order if k in kinds]


def _provenance(ws: Workspace) -> dict[str, Any]:
    counts = ws.record_counts()
    batches = ws.store.rows("SELECT count(*), coalesce(sum(rejected), 0) FROM batches")[0]
    return {
        "store": ws.kind,
        "schema_version": ws.schema_version,
        "batches": int(batches[0]),
        "source_files": counts.pop("source_files"),
        "rejected_rows": int(batches[1]),
        "records": {k: v for k, v in counts.items() if k != "batches"},
    }


def compute_report(ws: Workspace, options: ReportOptions | None = None) -> dict[str, Any]:
    """The operation report as a JSON-ready dict (keys documented in docs/methodology.md)."""
    options = options or ReportOptions()
    method = options.dose_method
    facts = _investigations(ws, options)
    months: dict[str, Tally] = defaultdict(Tally)
    _load_outcomes(ws, options, facts, months)
    _load_platforms(ws, facts)
    _load_opened(facts.values(), months)

    total = Tally()
    for f in facts.values():
        _add(total, f, options)
    worked = total.arithmetic(method)
    seen_platforms = sorted(total.platform_investigations, key=lambda p: p.lower())
    counted = {f.investigation_id for f in facts.values() if f.counted}
    division = canonical_division(options.division) if options.division else None
    return {
        "title": options.title,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": options.command,
        "filters": {
            "from": options.date_from.isoformat() if options.date_from else None,
            "to": options.date_to.isoformat() if options.date_to else None,
            "division": division,
        },
        "investigations": total.investigations,
        "arrests": total.arrests,
        "agency_kinds": _agency_kinds(ws, counted),
        "seizures": total.seizures(),
        "deadly_doses": worked.total,
        "dose_method": {
            **method.as_dict(),
            "fentanyl_powder_mg": worked.powder_mg,
            "pill_doses": worked.pill_doses,
            "powder_doses": worked.powder_doses,
        },
        "platform_cases": {
            "any": total.any_platform,
            "social_media": total.social_media,
            "encrypted": total.encrypted,
            "by_platform": {p: total.platform_investigations[p] for p in seen_platforms},
            "social_media_platforms": sorted(options.social_media),
            "encrypted_platforms": sorted(options.encrypted),
        },
        "by_division": _grouped(facts.values(), "division", options),
        "by_state": _grouped(facts.values(), "state", options),
        "by_cartel": _grouped(facts.values(), "cartel", options),
        "by_month": [
            {
                "month": month,
                "investigations_opened": t.investigations,
                "arrests": t.arrests,
                "drug_seizures": t.drug_seizures,
                "fentanyl_pills": round(t.fentanyl_pills),
                "fentanyl_powder_lb": _lb(t.grams[Drug.FENTANYL.value]),
                "deadly_doses": t.doses(method),
            }
            for month, t in sorted(months.items())
        ],
        "provenance": _provenance(ws),
        # After resolution (docs/methodology.md): people arrested, joint records counted once.
        **_resolution_outcomes(ws, options, total.seizures()),
        # After network analysis (docs/methodology.md, "Networks"): the stored analysis.
        **_network_outcomes(ws, facts, options),
    }


def _resolution_outcomes(
    ws: Workspace, options: ReportOptions, seizures: dict[str, Any]
) -> dict[str, Any]:
    from lastmile.resolve.outcomes import outcomes

    return outcomes(ws, options, seizures)


# -- networks (the stored network analysis) -----------------------------------------------

NETWORKS_LARGEST = 5
NETWORKS_KEY_PLAYERS = 5
NO_ANALYSIS = (
    "No network analysis is stored in this workspace: run 'lastmile analyze' for the "
    "networks section."
)
STALE_ANALYSIS = (
    "The stored network analysis predates the last resolve: run 'lastmile analyze' again "
    "for the networks section."
)
SCOPE = (
    "Networks cover the whole workspace as last analyzed, not the report's window or division; "
    "key players are the default ranking (Borgatti's key-player set)."
)


def _split(text: Any) -> list[str]:
    return [p for p in str(text or "").split("|") if p]


def _network_outcomes(
    ws: Workspace, facts: dict[str, InvestigationFacts], options: ReportOptions
) -> dict[str, Any]:
    """The networks section, ``by_attributed_cartel`` and ``cartel_labels`` from the stored
    analysis; only ``networks`` with a one-line note when none is stored or it is stale."""
    from lastmile.network.attribution import cartel_of
    from lastmile.network.stored import (
        investigation_networks,
        latest_analysis,
        read_attribution,
        read_key_players,
        read_members,
        read_networks,
    )

    run = latest_analysis(ws)
    if run is None:
        return {"networks": {"analysis": None, "note": NO_ANALYSIS}}
    analysis = {
        "run_id": run.run_id,
        "finished_at": run.finished_at.isoformat(sep=" ", timespec="seconds"),
        "fresh": run.fresh,
    }
    if not run.fresh:
        return {"networks": {"analysis": analysis, "note": STALE_ANALYSIS}}
    nets = read_networks(ws).to_pylist()
    local = [n for n in nets if not n["upstream"]]
    attribution = {r["network_id"]: r for r in read_attribution(ws).to_pylist()}
    cartel = {
        nid: str(attribution.get(nid, {}).get("cartel") or UNATTRIBUTED)
        for nid in (n["network_id"] for n in local)
    }
    by_cartel: dict[str, dict[str, Any]] = {}
    for n in local:
        row = by_cartel.setdefault(cartel[n["network_id"]], {"networks": 0, "people": 0})
        row["networks"] += 1
        row["people"] += n["people"]
    multi = [
        {"network_id": n["network_id"], "people": n["people"], "cities": _split(n["cities"])}
        for n in local
        if n["multi_city"]
    ]
    largest = local[:NETWORKS_LARGEST]
    keys = read_key_players(ws, k=NETWORKS_KEY_PLAYERS).to_pylist()
    wanted = {n["network_id"] for n in largest}
    names = best_names(ws, [k["entity_id"] for k in keys if k["network_id"] in wanted])
    section: dict[str, Any] = {
        "analysis": analysis,
        "note": SCOPE,
        "mapped": len(local),
        "upstream": len(nets) - len(local),
        "people": sum(n["people"] for n in local),
        "multi_city": len(multi),
        "multi_city_networks": multi,
        "by_cartel": [
            {"cartel": c, **v}
            for c, v in sorted(by_cartel.items(), key=lambda kv: (-kv[1]["networks"], kv[0]))
        ],
        "attributed": sum(1 for c in cartel.values() if c != UNATTRIBUTED),
        "unattributed": sum(1 for c in cartel.values() if c == UNATTRIBUTED),
        "largest": [
            {
                "network_id": n["network_id"],
                "people": n["people"],
                "cities": _split(n["cities"]),
                "cartel": cartel[n["network_id"]],
                "score": attribution.get(n["network_id"], {}).get("score"),
                "key_players": [
                    {
                        "rank": k["rank"],
                        "entity_id": k["entity_id"],
                        "name": names.get(k["entity_id"]),
                        "score": k["score"],
                    }
                    for k in keys
                    if k["network_id"] == n["network_id"]
                ],
            }
            for n in largest
        ],
    }
    if not options.network_detail:
        del section["multi_city_networks"], section["largest"]
    # Each investigation takes the attribution of its home network (lastmile.network.stored).
    home = investigation_networks(ws, read_members(ws))
    labels = dict.fromkeys(
        ("investigations", "agree", "disagree", "unattributed", "no_label", "upstream"), 0
    )
    labels["not_in_network"] = 0
    pairs: dict[tuple[str, str], int] = defaultdict(int)
    for f in facts.values():
        nid = home.get(f.investigation_id)
        f.attributed = cartel.get(nid, UNATTRIBUTED) if nid else UNATTRIBUTED
        if not f.counted:
            continue
        labels["investigations"] += 1
        label = None if f.cartel == UNATTRIBUTED else (cartel_of(f.cartel) or f.cartel)
        if nid is None:
            labels["not_in_network"] += 1
        elif nid not in cartel:
            labels["upstream"] += 1
        elif f.attributed == UNATTRIBUTED:
            labels["unattributed"] += 1
        elif label is None:
            labels["no_label"] += 1
        else:
            labels["agree" if label == f.attributed else "disagree"] += 1
            pairs[(label, f.attributed)] += 1
    return {
        "networks": section,
        "by_attributed_cartel": _grouped(facts.values(), "attributed", options),
        "cartel_labels": {
            **labels,
            "by_label": [
                {"label": a, "attributed": b, "investigations": n}
                for (a, b), n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
        },
    }
