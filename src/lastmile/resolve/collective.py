"""A second pass over entities: the same model compares what each first-pass entity holds.

Pairwise matching sees two records at a time; a person's records each hold part of what is
known about him (one names his phone, another his street name, a third his address). After
the first pass, each entity's records are pooled into one row (the most frequent name and
date of birth, every key it holds), and the trained model compares the entities as it
compared records: collective entity resolution in its simplest, merge-and-recompare form
(Benjelloun et al. 2009, "Swoosh: a generic approach to entity resolution"; Bhattacharya and
Getoor 2007, "Collective entity resolution in relational data"). The same rules (vetoes)
and the clustering constraints apply to the pairs it finds (docs/resolution.md).
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from lastmile.resolve import cluster, persons

# Merging entities pools more of what they hold, so a pass can find pairs the one before
# could not; passes repeat until none merges, at most this many times.
ENTITY_PASSES = 3


def entity_features(
    con: duckdb.DuckDBPyConnection, components: str, changed: str | None = None
) -> pa.Table:
    """One row per entity of ``components(node, component)`` with the person features'
    columns, named by its component (its smallest record id); with ``changed(component,
    CHANGED)``, also its ``CHANGED`` column.

    An entity of one record is that record's row as it is (its lists sorted and without
    repeats, as pooling leaves them): only entities of several records are grouped, so the
    work grows with the records merged, not with all records (at a million records most
    entities are one record)."""

    def pooled(col: str) -> str:
        return f"nullif(list_sort(list_distinct(flatten(list({col})))), []) AS {col}"

    def most(col: str) -> str:
        # The most frequent value; ties go to the smallest, so reruns agree.
        return (
            f"first({col} ORDER BY n_{col} DESC, {col}) FILTER (WHERE {col} IS NOT NULL) AS {col}"
        )

    cols, alone = [], []
    for col in persons.FEATURE_COLUMNS:
        if col == "record_id":
            cols.append("c.component AS record_id")
            alone.append("c.component AS record_id")
        elif col == "investigation_id":
            # An entity all of whose records are in one case file is in that case (what it
            # shares with another subject of the case is no evidence); an entity of
            # several case files is in none.
            cols.append(
                "CASE WHEN count(DISTINCT investigation_id) = 1 THEN any_value(investigation_id)"
                " ELSE 'entity:' || c.component END AS investigation_id"
            )
            alone.append(
                "coalesce(f.investigation_id, 'entity:' || c.component) AS investigation_id"
            )
        elif col == "tie_keys":
            # The stated ties, and the entities of the subjects it is stated to be tied to
            # (associate_ties).
            cols.append(
                "nullif(list_sort(list_distinct(flatten(list(c.tie_keys)) || "
                "coalesce(any_value(t.ties), []))), []) AS tie_keys"
            )
            alone.append(
                "nullif(list_sort(list_distinct(coalesce(f.tie_keys, []) || "
                "coalesce(t.ties, []))), []) AS tie_keys"
            )
        elif col == "name_rare":
            # Rare only when every record's spelling is: one mistyped record does not make
            # "Hong Bui" written right three times a rare spelling (persons.RARE_SPELLING).
            cols.append(
                "CASE WHEN count(*) FILTER (WHERE name_rare IS NULL) = 0 "
                f"THEN {most(col).removesuffix(' AS name_rare')} END AS name_rare"
            )
            alone.append(f"f.{col}")
        elif col == "given_sur":
            # The entity's given name and first surname as it reads them (its commonest
            # of each), so the frequency weighed is that of the name it is compared on.
            first, sur1 = (most(c).removesuffix(f" AS {c}") for c in ("first", "sur1"))
            cols.append(f"{first} || ' ' || {sur1} AS given_sur")
            alone.append(f"f.{col}")
        elif col in persons.LIST_COLUMNS:
            cols.append(pooled(col))
            alone.append(f"nullif(list_sort(list_distinct(f.{col})), []) AS {col}")
        else:
            cols.append(most(col))
            alone.append(f"f.{col}")
    counts = ", ".join(
        f"count(*) OVER (PARTITION BY c.component, f.{col}) AS n_{col}"
        for col in persons.FEATURE_COLUMNS
        if col not in persons.LIST_COLUMNS and col not in ("record_id", "investigation_id")
    )
    extra, alone_extra, join = "", "", ""
    if changed is not None:
        extra = f", coalesce(any_value(x.{CHANGED}), true) AS {CHANGED}"
        alone_extra = f", coalesce(x.{CHANGED}, true) AS {CHANGED}"
        join = f"LEFT JOIN {changed} x ON x.component = c.component"
    con.execute("SELECT 1").fetchall()
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _entity_sizes AS SELECT node, component, "
        f"count(*) OVER (PARTITION BY component) AS n FROM {components}"
    )
    associate_ties(con, "_entity_sizes")
    table: pa.Table = con.sql(
        f"SELECT {', '.join(cols)}{extra} FROM (SELECT f.*, c.component, {counts} "
        "FROM person_features f JOIN _entity_sizes c ON c.node = f.record_id WHERE c.n > 1) c "
        f"LEFT JOIN _entity_ties t ON t.component = c.component {join} GROUP BY c.component "
        f"UNION ALL SELECT {', '.join(alone)}{alone_extra} "
        "FROM person_features f JOIN _entity_sizes c ON c.node = f.record_id "
        f"LEFT JOIN _entity_ties t ON t.component = c.component {join} WHERE c.n = 1"
    ).to_arrow_table()
    return table


# The kinds of stated relationship between two subjects that tie each to the other's entity.
ASSOCIATE_KINDS = ("supplies", "associate", "family")


def associate_ties(con: duckdb.DuckDBPyConnection, components: str) -> None:
    """``_entity_ties(component, ties)``: for each entity of ``components(node,
    component)``, the entities of the subjects its records are stated to supply, be
    supplied by, be family or associates of, as tie keys ``ent:COMPONENT`` (its own entity
    left out, and an entity tied to more than :data:`MAX_TIE_ENTITIES` entities left out:
    a crew's boss, not a person's contact).

    A record's stated ties name the associate's selectors (``sel:``); once the first pass
    has resolved the associates, two records tied to records of one resolved associate share
    that associate, whatever his records hold in common. It is relational evidence
    (Bhattacharya and Getoor 2007, "Collective entity resolution in relational data": two
    references are more likely one when their neighbours are one), and through the
    blocking rule on a principal moniker and a tie (persons.blocking_rules) a candidate pair
    no attribute of the two records brings together (docs/resolution-rounds.md, "Issue 10,
    seventh round")."""
    kinds = ", ".join(f"'{k}'" for k in ASSOCIATE_KINDS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _entity_ties AS
        WITH rel AS (
            SELECT from_id AS a, to_id AS b FROM src_relationships WHERE kind IN ({kinds})
            UNION SELECT to_id, from_id FROM src_relationships WHERE kind IN ({kinds})
        ), tied AS (
            SELECT DISTINCT x.component, 'ent:' || y.component AS tie FROM rel
            JOIN {components} x ON x.node = rel.a JOIN {components} y ON y.node = rel.b
            WHERE x.component <> y.component
        ), kept AS (
            SELECT tie FROM tied GROUP BY tie HAVING count(*) <= {MAX_TIE_ENTITIES}
        )
        SELECT component, list(tie ORDER BY tie) AS ties FROM tied JOIN kept USING (tie)
        GROUP BY component
        """
    )


# The column of an entity row that says whether it changed since it was last compared
# (persons.predict compares only pairs with a changed side when the column is present).
CHANGED = persons.CHANGED_COLUMN


def predict_entities(
    con: duckdb.DuckDBPyConnection,
    model: dict[str, Any],
    engine: str = "duckdb",
    spark: Any = None,
    also: str | None = None,
    first_pass: bool = True,
    components: str | None = None,
) -> pa.Table:
    """Predictions between the entities of this pass (``person_edges`` as they stand);
    also ``entity_cases(component, investigation_id)``: the case files each entity is in.

    The entities are ``components(node, component)`` when given (the run gives the
    clustering's constrained components, ``run.person_components``), else the connected
    components of ``person_edges``; either way they are copied into ``pass_entities``.

    Only pairs with at least one entity that changed since it was last compared are
    scored: an entity that is still one record was compared as that record, and one that no
    pass merged was compared in the pass before, with the same values (docs/resolution.md,
    step 7). ``entity_compared(node, component)`` holds the entities as last compared (each
    record alone before the first pass) and is updated here. In the first pass a record
    alone that a rule vetoed a merge for counts as changed, since the name rule is relaxed
    for entities (``run.entity_veto_sql``), and so does a record alone stated to be tied to
    a subject whose entity the first pass grew (its ties, :func:`associate_ties`, are new)."""
    if components is None:
        cluster.components(
            con,
            "(SELECT record_id AS node FROM person_features)",
            "(SELECT a, b FROM person_edges)",
            "pass_entities",
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE pass_entities AS SELECT c.node, c.component "
            f"FROM {components} c WHERE c.node IN (SELECT record_id FROM person_features)"
        )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE entity_cases AS
        SELECT DISTINCT c.component, f.investigation_id FROM person_features f
        JOIN pass_entities c ON c.node = f.record_id
        """
    )
    if first_pass:
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE entity_compared AS
            SELECT record_id AS node, record_id AS component FROM person_features
            """
        )
        # Also a record alone stated to be tied to a subject whose entity the first pass
        # grew: its ties to that entity (associate_ties) are new since it was compared.
        kinds = ", ".join(f"'{k}'" for k in ASSOCIATE_KINDS)
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE entity_vetoed AS
            SELECT a AS node FROM vetoed WHERE veto IS NOT NULL
            UNION SELECT b FROM vetoed WHERE veto IS NOT NULL
            UNION SELECT r.node FROM (
                SELECT from_id AS node, to_id AS other FROM src_relationships
                WHERE kind IN ({kinds})
                UNION SELECT to_id, from_id FROM src_relationships WHERE kind IN ({kinds})
            ) r JOIN pass_entities y ON y.node = r.other
            WHERE y.component IN (
                SELECT component FROM pass_entities GROUP BY component HAVING count(*) > 1)
            """
        )
    else:
        con.execute("CREATE OR REPLACE TEMP TABLE entity_vetoed (node VARCHAR)")
    # Unchanged: every record of the entity was in one compared entity of the same size.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE entity_changed AS
        WITH was AS (
            SELECT c.component, count(*) AS n, count(DISTINCT p.component) AS before,
                min(p.component) AS prev,
                bool_or(c.node IN (SELECT node FROM entity_vetoed)) AS vetoed
            FROM pass_entities c JOIN entity_compared p USING (node) GROUP BY c.component
        ), size AS (SELECT component, count(*) AS n FROM entity_compared GROUP BY component)
        SELECT w.component, NOT (w.before = 1 AND w.n = s.n) OR w.vetoed AS {CHANGED}
        FROM was w JOIN size s ON s.component = w.prev
        """
    )
    features = entity_features(con, "pass_entities", "entity_changed")
    con.execute("CREATE OR REPLACE TEMP TABLE entity_compared AS SELECT * FROM pass_entities")
    if features.num_rows < 2:
        return features.slice(0, 0)
    floor = min(persons.ENTITY_PREDICT_FLOOR, cluster.THRESHOLD)
    return persons.predict(features, model, engine, spark, also=also, floor=floor)


# A stated tie held by more entities than this is a crew's or a cartel's, not a person's
# (persons.MAX_BLOCK, the bound beyond which a selector is a shared line).
MAX_TIE_ENTITIES = persons.MAX_BLOCK
# Each side of a corroborated link holds at least this many records, and the two share at
# least this many distinct associates' selectors.
CORROBORATED_MIN_RECORDS = 2
CORROBORATED_MIN_TIES = 2


def corroborated_links(con: duckdb.DuckDBPyConnection, components: str | None = None) -> int:
    """Link entities (``person_edges`` as they stand) that the evidence of all their
    records together names as one person, though no pair of records does: each entity has
    several records, the two share a moniker and two or more selectors of the people they
    are stated to supply, be supplied by, be family or associates of (ties ``sel:``, each
    held by at most :data:`MAX_TIE_ENTITIES` entities), and nothing tells them apart: no
    case file in common, no two sexes, no two generations. Collective resolution
    (Bhattacharya and Getoor 2007): a person under a false identity keeps his street name
    and his contacts, and what one record holds of them is weak (a crew shares its
    contacts; "Flaco" is common), but the same moniker and the same contacts over the many
    records of two entities are not a coincidence (docs/resolution-rounds.md, "Issue 10, fifth
    round"). Each link goes into ``person_edges`` (at the threshold, with its evidence) and
    ``entity_exempt`` (a false identity comes with a false date of birth); returns how many.

    The entities are ``components(node, component)`` when given (the run gives the
    clustering's constrained components, as to :func:`predict_entities`), else the plain
    connected components of ``person_edges``. A plain component can pool a person with
    another one the clustering holds apart (by their dates of birth, a judgement, a case
    file): their pooled evidence is then no one's, and the link, made between the labels
    of the two components and exempt from the date constraint, could join the wrong one
    (docs/resolution-rounds.md, "Issue 10, ninth round", review fixes)."""
    if components is None:
        cluster.components(
            con,
            "(SELECT record_id AS node FROM person_features)",
            "(SELECT a, b FROM person_edges)",
            "_corr_cc",
        )
    else:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _corr_cc AS SELECT c.node, c.component "
            f"FROM {components} c WHERE c.node IN (SELECT record_id FROM person_features)"
        )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _corr_ent AS
        SELECT c.component, list_distinct(flatten(list(coalesce(f.monikers, [])))) AS mon,
            coalesce(list_distinct(list(f.sex) FILTER (WHERE f.sex IS NOT NULL)), [])
                AS sexes,
            coalesce(list_distinct(list(f.suffix) FILTER (WHERE f.suffix IS NOT NULL)), [])
                AS suffixes,
            coalesce(list_distinct(list(f.investigation_id)
                FILTER (WHERE f.investigation_id IS NOT NULL)), []) AS cases
        FROM person_features f JOIN _corr_cc c ON c.node = f.record_id
        GROUP BY c.component HAVING count(*) >= {CORROBORATED_MIN_RECORDS}
            AND len(list_distinct(flatten(list(coalesce(f.monikers, []))))) > 0
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _corr_ties AS
        WITH t AS (
            SELECT DISTINCT c.component, unnest(f.tie_keys) AS tie
            FROM person_features f JOIN _corr_cc c ON c.node = f.record_id
        ), kept AS (
            SELECT tie FROM t WHERE tie LIKE 'sel:%' GROUP BY tie
            HAVING count(*) BETWEEN 2 AND {MAX_TIE_ENTITIES}
        )
        SELECT t.component, t.tie FROM t JOIN kept USING (tie)
        WHERE t.component IN (SELECT component FROM _corr_ent)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _corr_pairs AS
        WITH shared AS (
            SELECT x.component AS a, y.component AS b, count(*) AS ties
            FROM _corr_ties x JOIN _corr_ties y ON x.tie = y.tie AND x.component < y.component
            GROUP BY 1, 2 HAVING count(*) >= {CORROBORATED_MIN_TIES}
        )
        SELECT s.a, s.b, s.ties, list_intersect(ea.mon, eb.mon) AS mon FROM shared s
        JOIN _corr_ent ea ON ea.component = s.a JOIN _corr_ent eb ON eb.component = s.b
        WHERE list_has_any(ea.mon, eb.mon) AND NOT list_has_any(ea.cases, eb.cases)
            AND NOT (len(ea.sexes) > 0 AND len(eb.sexes) > 0
                AND NOT list_has_any(ea.sexes, eb.sexes))
            AND NOT (len(ea.suffixes) > 0 AND len(eb.suffixes) > 0
                AND NOT list_has_any(ea.suffixes, eb.suffixes))
        """
    )
    con.execute(
        f"""
        INSERT INTO person_edges
        SELECT a, b, NULL, {cluster.THRESHOLD},
            'one person under another name (a rule: their entities share the moniker '
            || array_to_string(list_sort(mon), ', ') || ' and ' || ties
            || ' selectors of their contacts)'
        FROM _corr_pairs
        """
    )
    con.execute("CREATE TEMP TABLE IF NOT EXISTS entity_exempt (a VARCHAR, b VARCHAR)")
    con.execute("INSERT INTO entity_exempt SELECT a, b FROM _corr_pairs")
    row = con.execute("SELECT count(*) FROM _corr_pairs").fetchone()
    for t in ("_corr_cc", "_corr_ent", "_corr_ties"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    return int(row[0]) if row else 0
