"""``lastmile resolve``: records in, entities out (docs/resolution.md).

One function, :func:`resolve`, reads the workspace's subject, organization and selector
records, resolves them, and rewrites ``entities``, ``entity_members``, ``match_edges``,
``possible_matches`` and ``subject_identifiers`` in one transaction, recording the run in
``resolution_runs``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from lastmile import __version__
from lastmile.resolve import (
    anchor,
    cluster,
    collective,
    conflicts,
    features,
    persons,
    review,
)
from lastmile.resolve.errors import ResolveError
from lastmile.store import Workspace
from lastmile.store.backends import register_table
from lastmile.store.schema import POSSIBLE_MATCHES


@dataclass
class ResolveResult:
    run_id: str
    engine: str
    trained: bool
    threshold: float
    records: dict[str, int] = field(default_factory=dict)
    entities: dict[str, int] = field(default_factory=dict)
    edges: int = 0
    anchored: int = 0
    rebuilt_clusters: int = 0
    entity_pairs: int = 0
    corroborated: int = 0
    corroborate_dates: bool = True
    vetoed: dict[str, int] = field(default_factory=dict)
    identifier_conflicts: list[tuple[str, str, str]] = field(default_factory=list)
    invalid_identifiers: int = 0
    common_selectors: int = 0
    judgements_applied: int = 0
    conflicts: int = 0
    new_conflicts: int = 0
    # Stored before as possible only (conflicts.POSSIBLE_BASES), confirmed by this run.
    upgraded_conflicts: int = 0
    # Stored, not found by the run before, found by this one (told again by --since).
    found_again_conflicts: int = 0
    # Of them, through a line passed from one person to another (conflicts.POSSIBLE_BASES).
    possible_conflicts: int = 0
    # The time the conflicts of this run were stamped with (the store's clock, UTC): what a
    # reader gives 'lastmile conflicts --since' next time to be told only what is newer.
    conflicts_stamped_at: str = ""
    # Pairs of entities left apart for an analyst to judge (review.stage).
    possible_matches: int = 0
    training_skipped: list[str] = field(default_factory=list)
    # The prior's estimate (persons.estimate_prior): counted, rule recall stated, estimated
    # and used.
    prior: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    model: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "engine": self.engine,
            "trained": self.trained,
            "threshold": self.threshold,
            "records": self.records,
            "entities": self.entities,
            "edges": self.edges,
            "anchored": self.anchored,
            "rebuilt_clusters": self.rebuilt_clusters,
            "entity_pairs": self.entity_pairs,
            "corroborated": self.corroborated,
            "corroborate_dates": self.corroborate_dates,
            "vetoed": self.vetoed,
            "identifier_conflicts": [list(c) for c in self.identifier_conflicts],
            "invalid_identifiers": self.invalid_identifiers,
            "common_selectors": self.common_selectors,
            "judgements_applied": self.judgements_applied,
            "conflicts": self.conflicts,
            "new_conflicts": self.new_conflicts,
            "upgraded_conflicts": self.upgraded_conflicts,
            "found_again_conflicts": self.found_again_conflicts,
            "possible_conflicts": self.possible_conflicts,
            "conflicts_stamped_at": self.conflicts_stamped_at,
            "possible_matches": self.possible_matches,
            "training_skipped": self.training_skipped,
            "prior": self.prior,
            "seconds": round(self.seconds, 2),
        }


def evidence_sql(model: dict[str, Any]) -> str:
    """SQL over a prediction row: the evidence in words, '; '-separated, each with its
    match weight ("name: the same full name (+9.1)"). A term-frequency adjustment is given
    beside its level ("(+13.5, -1.7 as this value is common here)"), so that the parts and
    the prior add up to the match weight, as in Splink's waterfall."""
    parts = []
    tf = set(persons.tf_adjusted(model))
    for comp, levels in persons.level_labels(model).items():
        cases = " ".join(
            f"WHEN {g} THEN '{label.replace(chr(39), chr(39) * 2)}'"
            for g, (label, _) in levels.items()
        )
        adj = (
            f"|| CASE WHEN abs(coalesce(mw_tf_adj_{comp}, 0)) >= 0.05 THEN printf("
            f"', %+.1f as this value is ' || CASE WHEN mw_tf_adj_{comp} < 0 THEN 'common' "
            f"ELSE 'rare' END || ' here', mw_tf_adj_{comp}) ELSE '' END "
            if comp in tf
            else ""
        )
        parts.append(
            f"CASE WHEN gamma_{comp} <> -1 THEN '{comp}: ' || (CASE gamma_{comp} {cases} END) "
            f"|| ' (' || printf('%+.1f', mw_{comp}) {adj}|| ')' END"
        )
    return f"concat_ws('; ', {', '.join(parts)})"


# Comparison levels that forbid a merge, by label, with the reason reported. Family members
# share a surname, an address, a phone and ties; they differ in given name and date of birth.
# So records whose given names differ merge only when their dates of birth agree.
GENERATION_VETO = {"different generations (Jr. vs Sr.)": "different generations"}
NAME_VETO = {
    "names disagree": "names disagree",
    "a surname agrees, the given name differs": "given names differ",
    persons.SURNAME_DIFFERS_IN_PLACE: "one surname differs in its place",
}
# A compound given name ("Jean-Pierre", "Abdel Rahman", "Min-jun") is read as a given name
# and a middle name, and two brothers "Jean-Pierre" and "Jean-Paul" Dupont then share a
# full name: their middle names are what tells them apart, as given names do.
MIDDLE_VETO = {"middle names differ": "middle names differ"}
# A sex read from a given name ("Valentin" and "Valentina" Sokolov, sex left blank on one):
# two people, as different given names are, unless their dates of birth agree.
SEX_VETO = {"different sex, one read from a given name": "sexes differ by their given names"}
DOB_AGREES = ("the same date of birth", "date of birth one typo or a day/month swap apart")
# A moniker is a name the person goes by: a person under a false identity (another legal
# name, another date of birth) keeps his street name, so a shared moniker lifts the name rule.
MONIKER_AGREES = ("a moniker shared",)
# Two selectors or more shared (not shared lines, not within one case file) by two entities
# whose names disagree entirely: one phone is what a family or a crew shares, two are a
# person's (run.entity_alias_sql; docs/resolution-rounds.md, "Issue 10, sixth round").
SELECTORS_AGREE = ("2 or more selectors shared",)


def veto_sql(model: dict[str, Any]) -> str:
    """SQL over a prediction row: the rule that forbids merging the pair, or NULL."""
    labels = persons.level_labels(model)

    def gammas(comp: str, wanted: Any) -> dict[int, str]:
        return {
            g: (wanted[label] if isinstance(wanted, dict) else label)
            for g, (label, _) in labels.get(comp, {}).items()
            if label in wanted
        }

    whens = [
        f"WHEN gamma_suffix = {g} THEN '{why}'"
        for g, why in gammas("suffix", GENERATION_VETO).items()
    ]
    dob_ok = ", ".join(str(g) for g in gammas("dob", DOB_AGREES)) or "NULL"
    moniker_ok = ", ".join(str(g) for g in gammas("monikers", MONIKER_AGREES)) or "NULL"
    whens += [
        f"WHEN gamma_{comp} = {g} AND gamma_dob NOT IN ({dob_ok}) "
        f"AND gamma_monikers NOT IN ({moniker_ok}) THEN "
        f"'{why}, dates of birth do not agree'"
        for comp, veto in (("name", NAME_VETO), ("middle", MIDDLE_VETO), ("sex", SEX_VETO))
        for g, why in gammas(comp, veto).items()
        # A model saved before middle names spelled closely were a level of their own reads a
        # typo as "differ": no veto on it.
        if comp != "middle" or gammas("middle", ("middle names spelled closely",))
    ]
    return f"CASE {' '.join(whens)} END" if whens else "NULL"


def alias_link_sql(model: dict[str, Any]) -> str:
    """SQL over a prediction row: true when the pair is one person under another name by a
    rule, whatever the model's score: the names disagree entirely, and the two records
    share a moniker and a selector (not a shared line, not within one case file: those are
    the model's null level). Such a pair is an edge (the rules of :func:`veto_sql` still
    apply) and is exempt from the date constraint (:func:`alias_sql`).

    The model under-scores these pairs: its comparisons are independent given a match, and
    its passes of expectation maximisation meet a person's records only where a name or a
    date of birth agrees, so a false identity's two names and two dates weigh as two
    people's. Measured on the national operation (docs/resolution-rounds.md, "Tried on 2026-11-30
    for recall"): 416 of the 418 record pairs of other case files with these three facts
    were one person, 76 of them scored 0.5 or more. Two monikers given and different, or
    a moniker on one side only, do not qualify (3 of 58 and 465 of 547 were one person)."""

    def gammas(comp: str, wanted: tuple[str, ...]) -> str:
        return _gammas(model, comp, wanted)

    shared_sel = gammas("sel_keys", ("2 or more selectors shared", "a selector shared"))
    return (
        f"coalesce(gamma_name IN ({gammas('name', ('names disagree',))}) "
        f"AND gamma_monikers IN ({gammas('monikers', MONIKER_AGREES)}) "
        f"AND gamma_sel_keys IN ({shared_sel}), false)"
    )


def threshold_sql(con: duckdb.DuckDBPyConnection, tied: float, nodes: str = "") -> str:
    """SQL over a prediction row (record_id_l, record_id_r): the probability at which the
    pair is merged, cluster.THRESHOLD, or ``tied`` when either record carries stated ties
    (``nodes``: SQL of the records, or the entities of the entity pass, that do; by default
    the records of person_features with a tie). A record without ties may still belong to
    an entity with ties, so one side with ties is enough for a wrong merge to join two
    groups."""
    if tied == cluster.THRESHOLD:
        return str(cluster.THRESHOLD)
    nodes = nodes or "SELECT record_id FROM person_features WHERE tie_keys IS NOT NULL"
    con.execute(f"CREATE OR REPLACE TEMP TABLE tied_nodes AS SELECT DISTINCT * FROM ({nodes})")
    tied_sql = (
        "(record_id_l IN (SELECT * FROM tied_nodes) OR record_id_r IN (SELECT * FROM tied_nodes))"
    )
    return f"(CASE WHEN {tied_sql} THEN {tied} ELSE {cluster.THRESHOLD} END)"


def tied_threshold(prior: Mapping[str, Any]) -> float:
    """cluster.TIED_THRESHOLD when the run's prior (ResolveResult.prior) was estimated,
    cluster.THRESHOLD else (the stated prior's margin is already in every probability;
    with a training pass skipped the stated recall is used, persons.train)."""
    if prior.get("mode") != "estimated" or "prior_estimated" not in prior:
        return cluster.THRESHOLD
    return max(cluster.THRESHOLD, cluster.TIED_THRESHOLD)


def latest_prior(ws: Workspace) -> dict[str, Any]:
    """The prior's estimate recorded with the last run ({} if none)."""
    rows = ws.store.rows(
        "SELECT counts_json FROM resolution_runs ORDER BY finished_at DESC LIMIT 1"
    )
    if not rows or not rows[0][0]:
        return {}
    prior = json.loads(rows[0][0]).get("prior") or {}
    return dict(prior)


def _person_edges(
    con: duckdb.DuckDBPyConnection, pred: pa.Table, model: dict[str, Any], result: ResolveResult
) -> None:
    """``person_edges(a, b, match_weight, probability, evidence)``: predictions at or above
    the threshold (``threshold_sql``) that no rule vetoes, then the analysts' judgements on
    top."""
    threshold = threshold_sql(con, tied_threshold(result.prior))
    register_table(con, pred, "pred")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE scored AS
        SELECT least(record_id_l, record_id_r) AS a, greatest(record_id_l, record_id_r) AS b,
            match_weight, match_probability AS probability, gamma_name, gamma_suffix,
            gamma_identifiers, gamma_dob, gamma_address, gamma_sel_keys, gamma_monikers,
            gamma_tie_keys, gamma_middle, gamma_sex, {threshold} AS threshold,
            CASE WHEN {alias_link_sql(model)} AND match_probability < {threshold}
                THEN 'one person under another name (a rule: names disagree, a selector '
                    || 'and a moniker shared); '
                ELSE '' END || {evidence_sql(model)} AS evidence,
            {alias_link_sql(model)} AS alias_link
        FROM pred
        """
    )
    # Vetoes (docs/resolution.md, "Rules"): records that disagree on who the person is (the
    # given name, the name as a whole, the date of birth, the generation) are never one
    # person on the strength of what they hold: a shared phone, identifier or ties.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE vetoed AS
        SELECT *, {veto_sql(model)} AS veto
        FROM scored WHERE probability >= threshold OR alias_link
        """
    )
    for reason, n in con.execute(
        "SELECT veto, count(*) FROM vetoed WHERE veto IS NOT NULL GROUP BY veto"
    ).fetchall():
        result.vetoed[reason] = int(n)
    # An identifier shared by records that are clearly different people: flagged. The
    # levels are found by their labels, as a model saved with other levels numbers them
    # otherwise.
    shared = _gammas(model, "identifiers", ("an identifier shared",))
    names_disagree = _gammas(model, "name", ("names disagree",))
    dates_differ = _gammas(model, "dob", ("dates of birth differ",))
    result.identifier_conflicts = [
        (str(a), str(b), "shares an identifier with a record of another name")
        for a, b in con.execute(
            f"SELECT a, b FROM scored WHERE gamma_identifiers IN ({shared}) AND "
            f"(gamma_name IN ({names_disagree}) OR gamma_dob IN ({dates_differ})) "
            f"AND (probability >= {persons.ENTITY_PREDICT_FLOOR} OR alias_link) ORDER BY a, b"
        ).fetchall()
    ]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE person_edges AS
        SELECT v.a, v.b, v.match_weight,
            -- A rule's link below the threshold is stored at the threshold (as anchor.py's).
            greatest(v.probability, {cluster.THRESHOLD}) AS probability, v.evidence FROM vetoed v
        WHERE v.veto IS NULL AND NOT EXISTS (
            SELECT 1 FROM judged j WHERE j.verdict = 'different' AND j.a = v.a AND j.b = v.b)
        UNION ALL
        SELECT j.a, j.b, NULL, 1.0, 'an analyst judged them the same person' FROM judged j
        JOIN src_subjects s1 ON s1.record_id = j.a JOIN src_subjects s2 ON s2.record_id = j.b
        WHERE j.verdict = 'same'
        """
    )


def _gammas(model: dict[str, Any], comp: str, wanted: tuple[str, ...]) -> str:
    """The comparison vector values of ``comp``'s levels labelled as in ``wanted``, as an SQL
    list ("NULL" when none)."""
    labels = persons.level_labels(model).get(comp, {})
    return ", ".join(str(g) for g, (label, _) in labels.items() if label in wanted) or "NULL"


def entity_veto_sql(model: dict[str, Any]) -> str:
    """The rules of :func:`veto_sql` for a pair of entities, but for one: two entities whose
    names disagree entirely are merged without agreeing dates of birth when they share both
    a selector and a stated tie. The name rule keeps two people apart who share a phone (a
    family phone, a burner handed down); pooled entities that share a phone and also an
    organization or an associate are one person under two names. A surname shared (a father
    and his son) still vetoes (docs/resolution.md, "Entities compared again")."""

    def gammas(comp: str, wanted: tuple[str, ...]) -> str:
        return _gammas(model, comp, wanted)

    return f"CASE WHEN {entity_alias_sql(model)} THEN NULL ELSE {veto_sql(model)} END"


def entity_alias_sql(model: dict[str, Any]) -> str:
    """SQL over a prediction row of two entities: true when they are one person under two
    names by the entity pass's rules (:func:`entity_veto_sql`), and nothing tells two
    people apart: not two generations, not two sexes, not two sets of monikers with none in
    common. The rules:

    - names that disagree entirely, a selector and a stated tie shared;
    - names that disagree entirely (or one side without any), two selectors or more
      shared (:data:`SELECTORS_AGREE`; since the sixth round). One phone is what a family,
      a crew or the next owner of a burner has; two are a person's. Measured before the
      rule (docs/resolution-rounds.md, "Issue 10, sixth round"), every record pair of the four
      synthetic operations sharing two selectors under names that disagree or are missing
      was one person (about 250 nationally, 20 on the divisions), most scored under 0.5
      (names disagree weigh -5.6 bits: expectation maximisation meets a person's records
      only where a name or a date agrees).

    Such a link is exempt from the date constraint of the clustering, as the alias link is
    (a false identity comes with a false date of birth)."""

    def gammas(comp: str, wanted: tuple[str, ...]) -> str:
        return _gammas(model, comp, wanted)

    sel = gammas("sel_keys", ("2 or more selectors shared", "a selector shared"))
    two_sel = gammas("sel_keys", SELECTORS_AGREE)
    tie = gammas("tie_keys", ("2 or more ties shared", "a tie shared"))
    names_disagree = gammas("name", ("names disagree",))
    return (
        f"coalesce((gamma_name IN ({names_disagree}) AND gamma_sel_keys IN ({sel}) "
        f"AND gamma_tie_keys IN ({tie}) OR (gamma_name = -1 OR gamma_name IN "
        f"({names_disagree})) AND gamma_sel_keys IN ({two_sel})) "
        f"AND gamma_suffix IS DISTINCT FROM "
        f"{gammas('suffix', tuple(GENERATION_VETO))} AND gamma_sex IS DISTINCT FROM "
        f"{gammas('sex', ('different sex',))} AND gamma_monikers IS DISTINCT FROM "
        f"{gammas('monikers', ('no moniker shared',))}, false)"
    )


def _entity_edges(
    con: duckdb.DuckDBPyConnection,
    pred: pa.Table,
    model: dict[str, Any],
    tied: float | None = None,
) -> int:
    """Add the second pass's pairs of entities (``collective``) to ``person_edges``, between
    the entities' first records, under the same threshold (``tied`` where either entity
    carries ties, ``threshold_sql``) and rules; returns how many."""
    if pred.num_rows == 0:
        return 0
    threshold = threshold_sql(
        con,
        cluster.THRESHOLD if tied is None else tied,
        "SELECT c.component FROM pass_entities c JOIN person_features f ON f.record_id = c.node "
        "WHERE f.tie_keys IS NOT NULL",
    )
    register_table(con, pred, "pred_entities")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE entity_pairs AS
        SELECT least(record_id_l, record_id_r) AS a, greatest(record_id_l, record_id_r) AS b,
            match_weight, match_probability AS probability,
            'their entities: ' || {evidence_sql(model)} AS evidence,
            {entity_veto_sql(model)} AS veto, {entity_alias_sql(model)} AS exempt
        FROM pred_entities p WHERE (match_probability >= {threshold}
            OR {alias_link_sql(model)} OR {entity_alias_sql(model)})
        -- Two entities named as two subjects of one case file are two people in the case's
        -- judgement: the second pass does not merge them.
        AND NOT EXISTS (
            SELECT 1 FROM entity_cases x JOIN entity_cases y USING (investigation_id)
            WHERE x.component = p.record_id_l AND y.component = p.record_id_r)
        -- Nor two entities holding two records an analyst judged different, as the record
        -- pass (_person_edges): the entities compared are those the clustering makes, so
        -- the parts a judgement split are compared, and their link would be one the
        -- analyst rejected (the clustering would refuse it, but it would be shown).
        AND NOT EXISTS (
            SELECT 1 FROM judged j JOIN pass_entities x ON x.node = j.a
            JOIN pass_entities y ON y.node = j.b
            WHERE j.verdict = 'different' AND (
                x.component = p.record_id_l AND y.component = p.record_id_r
                OR x.component = p.record_id_r AND y.component = p.record_id_l))
        """
    )
    con.execute(
        f"""
        INSERT INTO person_edges
        SELECT a, b, match_weight, greatest(probability, {cluster.THRESHOLD}), evidence
        FROM entity_pairs WHERE veto IS NULL
        """
    )
    # Its links of one person under two names are exempt from the date constraint.
    con.execute("CREATE TEMP TABLE IF NOT EXISTS entity_exempt (a VARCHAR, b VARCHAR)")
    con.execute(
        "INSERT INTO entity_exempt SELECT a, b FROM entity_pairs WHERE veto IS NULL AND exempt"
    )
    row = con.execute("SELECT count(*) FROM entity_pairs WHERE veto IS NULL").fetchone()
    return int(row[0]) if row else 0


def _load_judgements(ws: Workspace, con: duckdb.DuckDBPyConnection) -> int:
    features.settle(con)
    table = ws.store.query(
        "SELECT verdict, record_a, record_b, made_at, judgement_id FROM judgements "
        "WHERE record_a IS NOT NULL"
    )
    if table.num_rows == 0:
        table = pa.table(
            {
                **{k: pa.array([], pa.string()) for k in ("verdict", "record_a", "record_b")},
                "made_at": pa.array([], pa.timestamp("us")),
                "judgement_id": pa.array([], pa.string()),
            }
        )
    register_table(con, table, "src_judgements")
    # The latest verdict on a pair wins; a pair is kept in (a, b) order.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE judged AS
        SELECT least(record_a, record_b) AS a, greatest(record_a, record_b) AS b,
            arg_max(verdict, (made_at, judgement_id)) AS verdict
        FROM src_judgements GROUP BY 1, 2
        """
    )
    row = con.execute("SELECT count(*) FROM judged").fetchone()
    return int(row[0]) if row else 0


def _previous(ws: Workspace, con: duckdb.DuckDBPyConnection) -> None:
    features.settle(con)
    members = ws.store.query("SELECT record_type, record_id, entity_id FROM entity_members")
    if members.num_rows == 0:
        members = pa.table(
            {k: pa.array([], pa.string()) for k in ("record_type", "record_id", "entity_id")}
        )
    register_table(con, members, "prev_members")
    ents = ws.store.query("SELECT entity_id, first_seen FROM entities")
    if ents.num_rows == 0:
        ents = pa.table(
            {"entity_id": pa.array([], pa.string()), "first_seen": pa.array([], pa.timestamp("us"))}
        )
    register_table(con, ents, "prev_entities")


# Two dates of birth (YYYY-MM-DD) that cannot be one person's: not one typo or a day/month
# swap apart, more than a year apart, and not two of year, month and day the same (a
# mistyped year such as 1996 for 2006 keeps month and day).
DOB_CONFLICT = (
    "NOT (damerau_levenshtein({x}, {y}) <= 1 OR (substr({x}, 1, 4) = substr({y}, 1, 4) "
    "AND substr({x}, 6, 2) = substr({y}, 9, 2) AND substr({x}, 9, 2) = substr({y}, 6, 2)) "
    "OR abs(date_diff('day', CAST({x} AS DATE), CAST({y} AS DATE))) <= 366 "
    "OR (substr({x}, 1, 4) = substr({y}, 1, 4))::INT "
    "+ (substr({x}, 6, 2) = substr({y}, 6, 2))::INT "
    "+ (substr({x}, 9, 2) = substr({y}, 9, 2))::INT >= 2)"
)


def alias_sql(model: dict[str, Any]) -> str:
    """SQL over a prediction row: true when the pair is one person under another name, as
    the model's evidence shows it: the names disagree entirely, and a moniker and a selector
    or a stated tie are shared. Such a link is exempt from the date-of-birth constraint of
    the clustering (a false identity comes with a false date of birth; a father and a son
    share a surname, so their names never disagree entirely)."""

    def gammas(comp: str, wanted: tuple[str, ...]) -> str:
        return _gammas(model, comp, wanted)

    shared_sel = gammas("sel_keys", ("2 or more selectors shared", "a selector shared"))
    shared_tie = gammas("tie_keys", ("2 or more ties shared", "a tie shared"))
    return (
        f"coalesce(gamma_name IN ({gammas('name', ('names disagree',))}) "
        f"AND gamma_monikers IN ({gammas('monikers', MONIKER_AGREES)}) "
        f"AND (gamma_sel_keys IN ({shared_sel}) OR gamma_tie_keys IN ({shared_tie})), false)"
    )


# What a person holds, pooled per side of a merge for :func:`corroborated`: kinds of
# evidence (one kind counts once however many values it shares), traits that tell two
# people apart (two sexes, two generations), and surnames (a family's).
EVIDENCE_KINDS = ("selector", "moniker", "tie", "identifier", "address")
TRAIT_KINDS = ("sex", "suffix")
# What a person holds as his own: a family shares an address, a phone (a family phone, a
# burner handed down) and its contacts, not a street name or an identity document.
PERSONAL_KINDS = ("moniker", "identifier")


def corroborated(a: Mapping[str, set[str]], b: Mapping[str, set[str]]) -> bool:
    """True when two sides of a merge that their dates of birth would refuse share enough
    of what a person holds, pooled over all their records, to be one person whatever the
    dates say (a false identity comes with a false date of birth): two kinds of evidence or
    more (:data:`EVIDENCE_KINDS`), and no trait (:data:`TRAIT_KINDS`) stated on both sides
    with none in common. When the two sides share a surname (a father and his son, whose
    dates are what tells them apart), one of the shared kinds must be a person's own
    (:data:`PERSONAL_KINDS`), or two selectors or more: a family shares an address, a phone
    and its contacts (docs/resolution-rounds.md, "Issue 10, fifth round")."""
    for kind in TRAIT_KINDS:
        if a.get(kind) and b.get(kind) and a[kind].isdisjoint(b[kind]):
            return False
    shared = {k: a[k] & b[k] for k in EVIDENCE_KINDS if a.get(k) and b.get(k)}
    shared = {k: v for k, v in shared.items() if v}
    if len(shared) < 2:
        return False
    if a.get("surname", set()).isdisjoint(b.get("surname", set())):
        return True
    return any(k in shared for k in PERSONAL_KINDS) or len(shared.get("selector", ())) >= 2


# What each record holds, for :func:`corroborated`. A tie, an identifier or an address held
# by more than persons.MAX_BLOCK records is many people's (a gang named in every case, a
# junk number, a jail's address), as a selector on that many is a shared line (already out
# of sel_keys); a moniker is not bounded, since a person's own records repeat it (a man
# named in 26 cases under "El Chino").
EVIDENCE_SQL = f"""(
    SELECT node, kind, value FROM (
        SELECT *, count(*) OVER (PARTITION BY kind, value) AS holders FROM (
            SELECT record_id AS node, 'tie' AS kind, unnest(tie_keys) AS value
            FROM person_features
            UNION ALL SELECT record_id, 'identifier', unnest(id_keys) FROM person_features
            UNION ALL SELECT record_id, 'address', unnest(addr_streets) FROM person_features
        )
    ) WHERE holders <= {persons.MAX_BLOCK}
    UNION ALL SELECT record_id, 'selector', unnest(sel_keys) FROM person_features
    UNION ALL SELECT record_id, 'moniker', unnest(monikers) FROM person_features
    UNION ALL SELECT record_id, 'sex', sex FROM person_features
    UNION ALL SELECT record_id, 'suffix', suffix FROM person_features
    UNION ALL SELECT record_id, 'surname', unnest([sur1, sur2]) FROM person_features
)"""


def _clusters(
    con: duckdb.DuckDBPyConnection, result: ResolveResult, units: str | None = None
) -> None:
    """``all_clusters(record_type, record_id, cluster, kind)`` for every record; ``units``:
    the entities as the entity passes left them (:func:`entity_passes`, which
    ``collective.corroborated_links`` compared), which start whole (:func:`person_components`).

    With ``result.corroborate_dates`` (the default), a merge refused for its dates of birth
    is made when the two sides' pooled evidence corroborates it (:func:`corroborated`): the
    merges are right (37 of 38 entity pairs nationally). It was off by default while the
    network rules read a person's true and false identities, joined across two cities, as a
    regional supplier above his own crew; rule 4 now reads a group's level from where it
    sells (docs/resolution-rounds.md, "The date override on by default")."""
    # Persons: the edges' connected components, except that two records an analyst judged
    # different, or two dates of birth that cannot be one person's (more than a year and
    # more than a typo apart: a father and a son of one name), never end in one entity
    # through the records between them (docs/resolution.md, "Clustering").
    #
    # Two subject records of one case file are two people in the case's own judgement (the
    # investigators listed them apart), so they never end in one entity through others
    # either (a father and his son of one name at one address, one of them without a date
    # of birth; two crew members each linked to a third record), unless their own link
    # states one date of birth on both (a clerical duplicate: the same or one typo apart),
    # or an analyst judged them the same (docs/resolution-rounds.md, "Issue 10, third round").
    result.rebuilt_clusters = person_components(con, result, "person_cc", units)
    _org_clusters(con)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE all_clusters AS
        SELECT 'subjects' AS record_type, node AS record_id, 'p:' || component AS cluster,
            'person' AS kind FROM person_cc
        UNION ALL
        SELECT 'organizations', substr(node, 5), 'o:' || component, 'organization'
        FROM org_cc WHERE node LIKE 'rec:%'
        UNION ALL
        SELECT 'selectors', record_id, 's:' || key, 'selector' FROM sel_recs
        """
    )


GENERATIONS_APART = """
    SELECT x.record_id AS a, y.record_id AS b FROM person_features x JOIN person_features y
        ON y.sur1 = x.sur1 AND x.record_id < y.record_id
    WHERE x.suffix <> y.suffix
        AND NOT EXISTS (
            SELECT 1 FROM judged j WHERE j.verdict = 'same'
                AND (j.a IN (x.record_id, y.record_id) OR j.b IN (x.record_id, y.record_id)))"""
"""Pairs of records of one surname and two generations (Jr. and Sr.): never one person, as
the veto says of a pair (:data:`GENERATION_VETO`), and neither through a third record that
states no generation ("Dennis Harlow" between "Dennis Harlow Jr." and "Dennis Harlow Sr."):
the clustering keeps them apart as it does two records judged different. A record an analyst
judged the same as another is left out: his judgement wins over a clerk's suffix. Built once
a run (``generations_apart``), for every clustering of the run reads it."""


def person_components(
    con: duckdb.DuckDBPyConnection, result: ResolveResult, into: str, units: str | None = None
) -> int:
    """``into(node, component)``: the person records' clusters under ``person_edges`` as
    they stand, with the clustering's constraints (:func:`_clusters`: an analyst's
    ``different``, two generations (:data:`GENERATIONS_APART`), dates of birth that cannot
    be one person's unless the pooled evidence corroborates the merge, two subjects of one
    case file); returns how many components
    were rebuilt. Run before each entity pass too (``collective.predict_entities``), so
    that the entity pass compares the entities the clustering would make, not the plain
    components of the edges (docs/resolution-rounds.md, "Issue 10, ninth round")."""
    model_ok = bool(result.model.get("comparisons"))
    con.execute("CREATE TEMP TABLE IF NOT EXISTS entity_exempt (a VARCHAR, b VARCHAR)")
    con.execute(f"CREATE TEMP TABLE IF NOT EXISTS generations_apart AS {GENERATIONS_APART}")
    dob_ok = _gammas(result.model, "dob", DOB_AGREES) if model_ok else "NULL"
    moniker_ok = _gammas(result.model, "monikers", MONIKER_AGREES) if model_ok else "NULL"
    id_ok = _gammas(result.model, "identifiers", ("an identifier shared",)) if model_ok else "NULL"
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE cluster_edges AS
        SELECT e.a, e.b, e.probability,
            j.a IS NOT NULL OR coalesce(x.exempt, false) OR z.a IS NOT NULL AS forced,
            j.a IS NOT NULL OR coalesce(x.duplicate, false) AS group_ok
        FROM person_edges e
        LEFT JOIN judged j ON j.a = e.a AND j.b = e.b AND j.verdict = 'same'
        LEFT JOIN (SELECT DISTINCT a, b FROM entity_exempt) z ON z.a = e.a AND z.b = e.b
        LEFT JOIN (
            SELECT v.a, v.b, {alias} AS exempt,
                fa.investigation_id = fb.investigation_id AND (v.gamma_dob IN ({dob_ok})
                    OR v.gamma_monikers IN ({moniker_ok}) OR v.gamma_identifiers IN ({id_ok}))
                    AS duplicate
            FROM vetoed v JOIN person_features fa ON fa.record_id = v.a
            JOIN person_features fb ON fb.record_id = v.b
        ) x ON x.a = e.a AND x.b = e.b
        """.format(
            alias=alias_sql(result.model) if model_ok else "false",
            dob_ok=dob_ok,
            moniker_ok=moniker_ok,
            id_ok=id_ok,
        )
    )
    return cluster.constrained_components(
        con,
        "(SELECT record_id AS node FROM src_subjects)",
        "cluster_edges",
        "(SELECT a, b FROM judged WHERE verdict = 'different' "
        "UNION ALL SELECT a, b FROM generations_apart)",
        "(SELECT record_id AS node, dob AS value FROM person_features)",
        DOB_CONFLICT.format(x="x.value", y="y.value"),
        into,
        groups="(SELECT record_id AS node, investigation_id AS grp FROM person_features)",
        evidence=EVIDENCE_SQL if result.corroborate_dates else None,
        corroborated=corroborated if result.corroborate_dates else None,
        units=None if units is None else f"(SELECT node, component AS unit FROM {units})",
    )


def _org_clusters(con: duckdb.DuckDBPyConnection) -> None:
    """``org_cc(node, component)`` over organization records (nodes ``rec:ID``), after
    ``person_cc``: records sharing a name key (one name in one locality,
    ``features.org_locality``) are one organization, and so are records of one bare name
    whose members include one resolved person, wherever they were named: the evidence that
    the "Eastside Locos" of two cities, or a DTO named in two states, are one
    (docs/resolution.md, "Organizations")."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE org_edges AS
        SELECT 'rec:' || record_id AS a, 'key:' || unnest(keys) AS b FROM org_recs
        UNION
        SELECT 'rec:' || o.record_id, 'member:' || p.component || '@' || unnest(o.names)
        FROM org_recs o
        JOIN org_member_of m ON m.org_record = o.record_id
        JOIN person_cc p ON p.node = m.subject_record
        """
    )
    cluster.components(
        con,
        "(SELECT 'rec:' || record_id AS node FROM org_recs UNION SELECT b FROM org_edges)",
        "org_edges",
        "org_cc",
    )


def _entities(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE new_members AS
        WITH touch AS (
            SELECT a AS record_id, probability FROM person_edges
            UNION ALL SELECT b, probability FROM person_edges
        ), best AS (SELECT record_id, max(probability) AS p FROM touch GROUP BY record_id)
        SELECT m.record_type, m.record_id, m.entity_id, m.kind,
            CASE WHEN m.record_type = 'subjects' THEN coalesce(b.p, 1.0) ELSE 1.0 END
                AS probability
        FROM ids m LEFT JOIN best b ON m.record_type = 'subjects' AND b.record_id = m.record_id
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE entity_names AS
        SELECT m.entity_id, coalesce(s.full_name, trim(concat_ws(' ', s.given_name,
            s.middle_name, s.family_name))) AS name, s.aliases AS extra
        FROM new_members m JOIN src_subjects s ON m.record_type = 'subjects'
            AND s.record_id = m.record_id
        UNION ALL
        SELECT m.entity_id, o.name, o.aliases FROM new_members m
        JOIN src_organizations o ON m.record_type = 'organizations'
            AND o.record_id = m.record_id
        UNION ALL
        SELECT m.entity_id, s.key, NULL FROM new_members m
        JOIN sel_recs s ON m.record_type = 'selectors' AND s.record_id = m.record_id
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE entity_selectors AS
        SELECT DISTINCT m.entity_id, ss.key FROM new_members m
        JOIN subject_selectors ss ON m.record_type = 'subjects' AND ss.subject_id = m.record_id
        UNION
        SELECT m.entity_id, s.key FROM new_members m
        JOIN sel_recs s ON m.record_type = 'selectors' AND s.record_id = m.record_id
        WHERE s.valid
        """
    )
    # The best name is the spelling most records share (case, accents, punctuation and word
    # order aside: "GUZMAN, Jesus" and "Jesús Guzmán" are one spelling), written the fullest
    # way one of them wrote it: in natural order rather than "FAMILY, Given", in mixed case
    # rather than all capitals or all lower case, with its accents. Latin letters win a tie
    # with another script.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE new_entities AS
        WITH names AS (
            SELECT entity_id, name, count(*) AS n,
                array_to_string(list_sort(list_filter(string_split(trim(regexp_replace(
                    strip_accents(lower(name)), '[^\\pL\\pN]+', ' ', 'g')), ' '),
                    lambda t: t <> '')), ' ') AS spelling
            FROM entity_names
            WHERE name IS NOT NULL AND name <> '' GROUP BY ALL
        ), spellings AS (
            SELECT entity_id, spelling, sum(n) AS n FROM names GROUP BY ALL
        ), best_spelling AS (
            SELECT entity_id, arg_max(spelling, (
                n, -length(spelling), regexp_full_match(spelling, '[\\p{Latin}\\pN ]*'), spelling
            )) AS spelling
            FROM spellings GROUP BY entity_id
        ), best AS (
            SELECT entity_id, arg_max(name, (
                strpos(name, ',') = 0, name <> upper(name) AND name <> lower(name),
                name <> strip_accents(name), n, name
            )) AS best_name
            FROM names JOIN best_spelling USING (entity_id, spelling) GROUP BY entity_id
        ), every AS (
            SELECT entity_id, string_agg(DISTINCT x, '|' ORDER BY x) AS names FROM (
                SELECT entity_id, name AS x FROM entity_names
                UNION ALL SELECT entity_id, trim(unnest(string_split(extra, '|')))
                FROM entity_names
            ) WHERE x IS NOT NULL AND x <> '' GROUP BY entity_id
        ), sels AS (
            SELECT entity_id, string_agg(key, '|' ORDER BY key) AS selectors
            FROM entity_selectors GROUP BY entity_id
        ), kinds AS (SELECT DISTINCT entity_id, kind FROM new_members)
        SELECT k.entity_id, k.kind, b.best_name, e.names, s.selectors,
            coalesce(p.first_seen, now()::TIMESTAMP) AS first_seen, now()::TIMESTAMP AS updated_at
        FROM kinds k LEFT JOIN best b USING (entity_id) LEFT JOIN every e USING (entity_id)
        LEFT JOIN sels s USING (entity_id) LEFT JOIN prev_entities p USING (entity_id)
        """
    )


def _write(ws: Workspace, con: duckdb.DuckDBPyConnection) -> None:
    store = ws.store
    features.settle(con)
    with store.transaction():
        for table in (
            "entities",
            "entity_members",
            "match_edges",
            "possible_matches",
            "subject_identifiers",
        ):
            store.execute(f"DELETE FROM {table}")
        store.append(
            con,
            "entities",
            ["entity_id", "kind", "best_name", "names", "selectors", "first_seen", "updated_at"],
            "SELECT entity_id, kind, best_name, names, selectors, first_seen, updated_at "
            "FROM new_entities",
        )
        store.append(
            con,
            "entity_members",
            ["record_type", "record_id", "entity_id", "probability"],
            "SELECT record_type, record_id, entity_id, probability FROM new_members",
        )
        store.append(
            con,
            "match_edges",
            ["record_a", "record_b", "match_weight", "probability", "evidence"],
            "SELECT a, b, match_weight, probability, evidence FROM person_edges",
        )
        store.append(
            con,
            "possible_matches",
            POSSIBLE_MATCHES.column_names,
            f"SELECT {', '.join(POSSIBLE_MATCHES.column_names)} FROM new_possible_matches",
        )
        store.append(
            con,
            "subject_identifiers",
            ["subject_id", "kind", "raw", "value", "valid", "reason"],
            "SELECT subject_id, kind, raw, value, valid, reason FROM subject_ids",
        )


def build_features(ws: Workspace, con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Load the records and build every feature table on ``con``; returns the person
    features Splink compares."""
    features.load_records(ws, con)
    features.build_selectors(con)
    features.build_organizations(con)
    features.build_person_features(con)
    cols = ", ".join(persons.FEATURE_COLUMNS)
    features.settle(con)
    # In the records' order, whatever order the store scanned them in: training samples
    # pairs by position, so PostgreSQL and DuckDB must hand Splink the same rows in the same
    # order to train the same model.
    table: pa.Table = con.sql(
        f"SELECT {cols} FROM person_features ORDER BY record_id"
    ).to_arrow_table()
    return table


def latest_model(ws: Workspace) -> dict[str, Any] | None:
    rows = ws.store.rows("SELECT model_json FROM resolution_runs ORDER BY finished_at DESC LIMIT 1")
    if not rows or not rows[0][0]:
        return None
    model: dict[str, Any] = json.loads(rows[0][0])
    return model


def resolve(
    ws: Workspace,
    *,
    engine: str = "duckdb",
    model_path: Path | None = None,
    save_model: Path | None = None,
    spark: Any = None,
    corroborate_dates: bool = True,
    prior: str | None = None,
) -> ResolveResult:
    """Resolve the workspace's records into entities and write them (docs/resolution.md).
    ``corroborate_dates``: let pooled evidence outweigh a date-of-birth conflict (see
    :func:`_clusters`; on by default). ``prior``: the trained model's prior from the
    stated or the estimated recall of its rule (persons.train; persons.DEFAULT_PRIOR)."""
    if engine not in ("duckdb", "spark"):
        raise ResolveError(f"unknown engine {engine!r}: use duckdb or spark")
    if engine == "spark" and spark is None:
        # Splink's steps run on a local Spark session (docs/resolution.md, "Engines"); the
        # rest stays on the workspace's connection.
        from lastmile.resolve import spark as spark_engine

        spark = spark_engine.session()
    started = time.time()
    started_at = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(started))
    con = ws.store.staging()
    pf = build_features(ws, con)
    result = ResolveResult(
        run_id=str(uuid.uuid4()),
        engine=engine,
        trained=model_path is None,
        threshold=cluster.THRESHOLD,
        corroborate_dates=corroborate_dates,
    )
    counts = con.execute(
        "SELECT (SELECT count(*) FROM src_subjects), (SELECT count(*) FROM src_organizations), "
        "(SELECT count(*) FROM src_selectors), "
        "(SELECT count(*) FROM subject_ids WHERE NOT valid), "
        "(SELECT count(*) FROM selector_use WHERE common)"
    ).fetchone()
    assert counts is not None
    result.records = {
        "subjects": int(counts[0]),
        "organizations": int(counts[1]),
        "selectors": int(counts[2]),
    }
    result.invalid_identifiers = int(counts[3])
    result.common_selectors = int(counts[4])
    if model_path is not None:
        model = persons.load_model(model_path)
        # The prior's estimate saved with the model (``save_model``): a model with the
        # prior estimated is applied with the tied threshold it was trained for.
        saved = model.pop(persons.SAVED_PRIOR, None)
        if saved is not None and not isinstance(saved, dict):
            raise ResolveError(f"{model_path}: {persons.SAVED_PRIOR} is not a JSON object")
        result.prior = dict(saved or {})
    elif pf.num_rows >= 2:
        model = persons.train(pf, engine, spark, result.training_skipped, result.prior, prior)
    else:
        model = persons.settings()
    result.model = model
    if save_model is not None:
        with_prior = {**model, persons.SAVED_PRIOR: result.prior}
        save_model.write_text(json.dumps(with_prior, indent=1), encoding="utf-8")
    pred = (
        persons.predict(
            pf,
            model,
            engine,
            spark,
            also=alias_link_sql(model),
            floor=min(persons.PREDICT_FLOOR, cluster.THRESHOLD),
        )
        if pf.num_rows >= 2
        else _empty_pred()
    )
    if pred.num_rows == 0:
        pred = _empty_pred()
    result.judgements_applied = _load_judgements(ws, con)
    _person_edges(con, pred, model, result)
    # Scored and vetoed, the predictions are not read again: the rest of the run (the entity
    # passes above all) is not to carry them, two full-width copies at a million records.
    del pred
    con.execute("DROP TABLE IF EXISTS pred")
    result.anchored = anchor.anchor_nameless(con)
    con.execute("CREATE OR REPLACE TEMP TABLE entity_exempt (a VARCHAR, b VARCHAR)")
    units: str | None = None
    if pf.num_rows >= 2:
        units = entity_passes(con, model, result, engine, spark)
        # Entities that all their records together name as one person (a moniker and
        # contacts shared), though no pair of records does: compared, as in the entity
        # passes, as the clustering makes them.
        result.corroborated = collective.corroborated_links(con, units)
    _previous(ws, con)
    _clusters(con, result, units)
    cluster.stable_ids(con, "all_clusters", "ids")
    _entities(con)
    result.identifier_conflicts = _identifier_conflicts(con, result.identifier_conflicts)
    review.stage(con)
    row = con.execute(
        "SELECT count(*) FROM (SELECT DISTINCT entity_a, entity_b FROM new_possible_matches)"
    ).fetchone()
    result.possible_matches = int(row[0]) if row else 0
    row = con.execute("SELECT count(*) FROM person_edges").fetchone()
    result.edges = int(row[0]) if row else 0
    result.entities = {
        str(k): int(n)
        for k, n in con.execute(
            "SELECT kind, count(*) FROM new_entities GROUP BY kind ORDER BY kind"
        ).fetchall()
    }
    conflicts.load_lines(ws, con)
    conflicts.compute(con)
    _write(ws, con)
    stored = conflicts.write(ws, con)
    result.new_conflicts, result.upgraded_conflicts = stored.new, stored.upgraded
    result.found_again_conflicts = stored.found_again
    result.conflicts_stamped_at = stored.at.isoformat() if stored.at else ""
    row = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE NOT "
        f"{conflicts.confirmed_sql('basis')}) FROM new_conflicts"
    ).fetchone()
    result.conflicts, result.possible_conflicts = (int(row[0]), int(row[1])) if row else (0, 0)
    result.seconds = time.time() - started
    features.settle(con)
    ws.store.execute(
        "INSERT INTO resolution_runs VALUES (?, ?, CURRENT_TIMESTAMP, ?, ?, ?, ?, ?, ?)",
        (
            result.run_id,
            started_at,
            engine,
            result.trained,
            cluster.THRESHOLD,
            json.dumps(model),
            json.dumps(result.as_dict()),
            __version__,
        ),
    )
    return result


SHARED_IDENTIFIER = "shares an identifier with a record resolved to another entity"


def identifier_conflict_line(record: str, why: str, other: str) -> str:
    """An identifier conflict in words, as ``resolve`` prints it and ``explain`` lists it."""
    return f"identifier conflict: {record} {why} ({other})"


def _identifier_conflicts(
    con: duckdb.DuckDBPyConnection, linked: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    """The identifier conflicts: ``linked`` (pairs the model or a rule linked although their
    names or dates of birth disagree, :func:`_person_edges`) and every pair of records in two
    person entities that hold one valid identifier: two people, or one person the records
    could not join. Most such pairs score near 0 (another name, another date of birth) and
    never reach the prediction, so they are found from the identifiers themselves, once the
    entities are made. One row per pair of entities and identifier, by their first records;
    an identifier more than ``persons.MAX_BLOCK`` entities hold is junk, not a conflict."""
    rows = con.execute(
        f"""
        WITH held AS (
            SELECT DISTINCT i.kind, i.value, i.subject_id, m.entity_id
            FROM subject_ids i JOIN new_members m
                ON m.record_type = 'subjects' AND m.record_id = i.subject_id
            WHERE i.valid
        ), firsts AS (
            SELECT kind, value, entity_id, min(subject_id) AS record_id
            FROM held GROUP BY kind, value, entity_id
        ), junk AS (
            -- An identifier many people hold is a junk or test value (123-45-6789), not
            -- one person's: as the evidence ignores it (EVIDENCE_SQL), it is not a conflict
            -- of each pair of its holders, which would be quadratic in them.
            SELECT kind, value FROM firsts GROUP BY kind, value
            HAVING count(*) > {persons.MAX_BLOCK}
        )
        SELECT x.record_id, y.record_id, '{SHARED_IDENTIFIER} (' || kind || ')'
        FROM firsts x JOIN firsts y USING (kind, value)
        WHERE x.entity_id < y.entity_id
            AND NOT EXISTS (SELECT 1 FROM junk j WHERE j.kind = x.kind AND j.value = x.value)
        """
    ).fetchall()
    pairs = {(min(a, b), max(a, b)): why for a, b, why in rows}
    for a, b, why in linked:
        pairs.setdefault((a, b), why)
    return [(a, b, why) for (a, b), why in sorted(pairs.items())]


def entity_passes(
    con: duckdb.DuckDBPyConnection,
    model: dict[str, Any],
    result: ResolveResult,
    engine: str = "duckdb",
    spark: Any = None,
) -> str:
    """The second pass (``collective.predict_entities``) over ``person_edges`` as they
    stand, its links added to them (:func:`_entity_edges`), repeated while it merges (at
    most ``collective.ENTITY_PASSES`` times); returns the table of the entities as the
    edges stand after the passes (``entity_cc``).

    Each pass compares the entities the clustering would make of the edges so far, its
    constraints applied (:func:`person_components`), not their plain connected components:
    a record link that joins one record of a man's false identity to his true identity's
    entity would otherwise make both identities one component, and the link between the
    two whole entities would never be made (docs/resolution-rounds.md, "Issue 10, ninth
    round"). The entities of the pass before start whole (``cluster.constrained_components``'
    units): its links join them whole."""
    added = 0
    for n in range(collective.ENTITY_PASSES):
        _entity_components(con, result, first=n == 0)
        pred = collective.predict_entities(
            con,
            model,
            engine,
            spark,
            also=f"({alias_link_sql(model)} OR {entity_alias_sql(model)})",
            first_pass=n == 0,
            components="entity_cc",
        )
        added = _entity_edges(con, pred, model, tied_threshold(result.prior))
        result.entity_pairs += added
        if added == 0:
            break
    if added > 0:
        # The last pass merged: its entities are those its links make.
        _entity_components(con, result, first=False)
    return "entity_cc"


def _entity_components(con: duckdb.DuckDBPyConnection, result: ResolveResult, first: bool) -> None:
    """``entity_cc``: the entities the clustering makes of ``person_edges`` as they stand,
    the ``entity_cc`` of the pass before starting whole unless ``first``."""
    if not first:
        con.execute("CREATE OR REPLACE TEMP TABLE entity_units AS SELECT * FROM entity_cc")
    person_components(con, result, "entity_cc", None if first else "entity_units")


def _empty_pred() -> pa.Table:
    cols: dict[str, pa.Array] = {
        "record_id_l": pa.array([], pa.string()),
        "record_id_r": pa.array([], pa.string()),
        "match_weight": pa.array([], pa.float64()),
        "match_probability": pa.array([], pa.float64()),
    }
    for comp in (
        "name",
        "dob",
        "suffix",
        "address",
        "identifiers",
        "sel_keys",
        "monikers",
        "tie_keys",
        "sex",
        "middle",
    ):
        cols[f"gamma_{comp}"] = pa.array([], pa.int32())
        cols[f"mw_{comp}"] = pa.array([], pa.float64())
    cols["mw_tf_adj_name"] = pa.array([], pa.float64())
    return pa.table(cols)
