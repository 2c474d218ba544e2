"""Analysts' judgements and explanations, over the stored results of ``lastmile resolve``.

A judgement is stored with who made it and when (table ``judgements``); resolve applies them
on every later run, over the model: ``same`` joins two records, ``different`` keeps them
apart (their direct link is removed, and the clustering never puts them in one entity through
other records: a cannot-link constraint), ``split`` separates the named records from the rest
of their entity (a ``different`` for each pair across the cut).
"""

from __future__ import annotations

import csv
import getpass
import json
import math
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lastmile.export.csvsafe import read_cell
from lastmile.resolve.errors import ResolveError
from lastmile.store import Workspace

VERDICTS = ("same", "different")


def _record_type(ws: Workspace, record_id: str) -> str:
    for table, column in (
        ("subjects", "subject_id"),
        ("organizations", "organization_id"),
        ("selectors", "selector_id"),
    ):
        if ws.store.rows(f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", (record_id,)):
            return table
    raise ResolveError(
        f"no subject, organization or selector record {record_id!r} in the workspace"
    )


def judge_pair(
    ws: Workspace, verdict: str, record_a: str, record_b: str, *, analyst: str = "", note: str = ""
) -> str:
    """Store a verdict on two records; returns the judgement id."""
    if verdict not in VERDICTS:
        raise ResolveError(f"a verdict is one of {', '.join(VERDICTS)}, not {verdict!r}")
    if record_a == record_b:
        raise ResolveError("a judgement needs two different records")
    for rid in (record_a, record_b):
        if _record_type(ws, rid) != "subjects":
            raise ResolveError(f"{rid!r} is not a subject record: only persons are judged")
    return _store(ws, verdict, record_a, record_b, analyst or _who(), note)


def _store(
    ws: Workspace, verdict: str, a: str, b: str, who: str, note: str, entity_id: str | None = None
) -> str:
    """One row of ``judgements`` (``entity_id``: the entity a split separated them from);
    returns its id."""
    jid = str(uuid.uuid4())
    ws.store.execute(
        "INSERT INTO judgements VALUES (?, ?, ?, ?, ?, ?, ?, CURRENT_TIMESTAMP)",
        (jid, verdict, a, b, entity_id, who, note),
    )
    return jid


@dataclass(frozen=True)
class RejectedJudgement:
    """A row of a judgements file that was not stored, and why."""

    path: str
    row: int  # the line of the file the row starts on: the header is row 1
    column: str
    reason: str

    def line(self) -> str:
        return f"{self.path}, row {self.row}, column {self.column}: {self.reason}"


@dataclass(frozen=True)
class JudgedFile:
    """What :func:`judge_file` did with each row: stored, left blank, or rejected."""

    judged: int
    skipped: int
    rejected: list[RejectedJudgement]


# The columns a judgements file needs: ``lastmile review --format csv`` with a verdict added.
JUDGEMENT_FILE_COLUMNS = ("record_a", "record_b", "verdict")
_IN_CHUNK = 500  # record ids checked in one query


def judge_file(ws: Workspace, path: Path, *, analyst: str = "", note: str = "") -> JudgedFile:
    """Store the verdicts of a judgements file: the possible matches an analyst went through
    (``lastmile review --format csv`` with a ``verdict`` column filled in), or any CSV with
    ``record_a``, ``record_b`` and ``verdict`` columns and, optionally, ``note``. A row whose
    verdict is blank was not judged and is skipped; a row with a bad verdict or record, a row
    of another width than the header, or a second verdict on a pair is rejected with its row,
    column and reason; the good rows are stored all together or, on a failure while writing,
    not at all. A file that is not a CSV with those columns stores nothing."""
    header, rows = _read_judgements(path)
    col = {c: header.index(c) for c in (*JUDGEMENT_FILE_COLUMNS, "note") if c in header}
    width = len(header)

    def cell(values: list[str], name: str) -> str:
        i = col.get(name)
        return values[i].strip() if i is not None else ""

    # An id as written, or as the review CSV wrote it against formula injection ("'=..."):
    # whichever the workspace holds.
    written = {cell(v, c) for _, v in rows if len(v) == width for c in ("record_a", "record_b")}
    subjects = _subject_ids(ws, sorted((written | {read_cell(w) for w in written}) - {""}))

    def record(text: str) -> str:
        return text if text in subjects else read_cell(text)

    rejected: list[RejectedJudgement] = []
    good: list[tuple[str, str, str, str]] = []
    judged: dict[frozenset[str], tuple[int, str]] = {}  # a pair, either way round
    skipped = 0
    for line, values in rows:
        if not any(v.strip() for v in values):
            continue  # a blank line
        if len(values) != width:
            where = header[len(values)] if len(values) < width else f"#{width + 1}"
            rejected.append(
                RejectedJudgement(
                    str(path), line, where, f"{len(values)} fields where the header has {width}"
                )
            )
            continue
        verdict = cell(values, "verdict").lower()
        if not verdict:
            skipped += 1
            continue
        a, b = record(cell(values, "record_a")), record(cell(values, "record_b"))
        reason: tuple[str, str] | None = None
        if verdict not in VERDICTS:
            reason = ("verdict", f"{verdict!r} is not one of {', '.join(VERDICTS)}")
        else:
            for name, rid in (("record_a", a), ("record_b", b)):
                if not rid:
                    reason = (name, "no record id")
                elif rid not in subjects:
                    reason = (name, f"{rid!r} is not a subject record of the workspace")
                if reason:
                    break
            if reason is None and a == b:
                reason = ("record_b", "the same record as record_a")
        if reason is None:
            # Two verdicts on one pair in one file would be stored at one time, and which
            # wins would be chance: the first row stands, a later one is rejected.
            first = judged.get(frozenset((a, b)))
            if first is not None:
                reason = ("verdict", f"row {first[0]} already judges this pair {first[1]}")
            else:
                judged[frozenset((a, b))] = (line, verdict)
        if reason is not None:
            rejected.append(RejectedJudgement(str(path), line, *reason))
        else:
            good.append((verdict, a, b, cell(values, "note") or note))
    who = analyst or _who()
    with ws.store.transaction():
        for verdict, a, b, why in good:
            _store(ws, verdict, a, b, who, why)
    return JudgedFile(len(good), skipped, rejected)


def _read_judgements(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header of a judgements file, and each row with the line it starts on."""
    rows: list[tuple[int, list[str]]] = []
    line = 1
    if path.is_char_device() or path.is_block_device():
        # A device (/dev/zero) would be read without end; a pipe is read as it is written.
        raise ResolveError(f"{path}: a device, not a file; give a judgements CSV file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            first = next(reader, None)
            if first is None:
                raise ResolveError(f"{path}: empty; a judgements file has a header row")
            header = [h.strip().lower() for h in first]
            line = reader.line_num + 1
            for values in reader:
                rows.append((line, values))
                line = reader.line_num + 1
    except (OSError, UnicodeDecodeError) as exc:
        raise ResolveError(f"{path}: can not be read as a UTF-8 CSV file ({exc})") from None
    except csv.Error as exc:
        raise ResolveError(f"{path}, row {line}: not CSV ({exc}); nothing judged") from None
    missing = [c for c in JUDGEMENT_FILE_COLUMNS if c not in header]
    if missing:
        raise ResolveError(
            f"{path}: no column {', '.join(missing)} (a judgements file has "
            f"{', '.join(JUDGEMENT_FILE_COLUMNS)} and, optionally, note)"
        )
    twice = [c for c in (*JUDGEMENT_FILE_COLUMNS, "note") if header.count(c) > 1]
    if twice:
        raise ResolveError(f"{path}: column {', '.join(twice)} more than once in the header")
    return header, rows


def _subject_ids(ws: Workspace, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), _IN_CHUNK):
        chunk = ids[start : start + _IN_CHUNK]
        marks = ", ".join("?" for _ in chunk)
        found |= {
            str(r[0])
            for r in ws.store.rows(
                f"SELECT DISTINCT subject_id FROM subjects WHERE subject_id IN ({marks})", chunk
            )
        }
    return found


def split_entity(
    ws: Workspace, entity_id: str, records: list[str], *, analyst: str = "", note: str = ""
) -> int:
    """Separate ``records`` from the rest of ``entity_id``; returns the pairs judged."""
    members = [
        str(r[0])
        for r in ws.store.rows(
            "SELECT record_id FROM entity_members WHERE entity_id = ? AND record_type = 'subjects'",
            (entity_id,),
        )
    ]
    if not members:
        raise ResolveError(f"no person entity {entity_id!r}; run 'lastmile resolve' first")
    missing = [r for r in records if r not in members]
    if missing:
        raise ResolveError(f"{', '.join(missing)} not in entity {entity_id}")
    rest = [m for m in members if m not in records]
    if not records or not rest:
        raise ResolveError("a split names some, not all, of the entity's subject records")
    who = analyst or _who()
    with ws.store.transaction():
        for a in records:
            for b in rest:
                _store(ws, "different", a, b, who, note or "split", entity_id)
    return len(records) * len(rest)


def _who() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # pragma: no cover - no user name in the environment
        return "unknown"


def missing_judged_records(ws: Workspace) -> list[str]:
    """Records named by judgements that no longer exist in the workspace."""
    rows = ws.store.rows(
        "SELECT DISTINCT r FROM (SELECT record_a AS r FROM judgements UNION ALL "
        "SELECT record_b FROM judgements) j WHERE r IS NOT NULL AND r NOT IN "
        "(SELECT subject_id FROM subjects) ORDER BY r"
    )
    return [str(r[0]) for r in rows]


@dataclass
class Explanation:
    title: str
    lines: list[str]

    def text(self) -> str:
        return "\n".join([self.title, *("  " + ln for ln in self.lines)]) + "\n"

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "lines": self.lines}


def _entity_of(ws: Workspace, record_id: str) -> str | None:
    rows = ws.store.rows("SELECT entity_id FROM entity_members WHERE record_id = ?", (record_id,))
    return str(rows[0][0]) if rows else None


def _shared(ws: Workspace, a: str, b: str) -> list[str]:
    lines = []
    sels = ws.store.rows(
        "SELECT DISTINCT s1.value_normalized FROM selectors s1 JOIN selectors s2 "
        "ON s1.value_normalized = s2.value_normalized AND s1.kind = s2.kind "
        "WHERE s1.subject_id = ? AND s2.subject_id = ? AND s1.value_valid ORDER BY 1",
        (a, b),
    )
    if sels:
        lines.append("shared selectors: " + ", ".join(str(s[0]) for s in sels))
    ids = ws.store.rows(
        "SELECT DISTINCT i1.kind || ':' || i1.value FROM subject_identifiers i1 "
        "JOIN subject_identifiers i2 ON i1.kind = i2.kind AND i1.value = i2.value "
        "WHERE i1.subject_id = ? AND i2.subject_id = ? AND i1.valid AND i2.valid ORDER BY 1",
        (a, b),
    )
    if ids:
        lines.append("shared identifiers: " + ", ".join(str(i[0]) for i in ids))
    return lines


def explain_pair(ws: Workspace, a: str, b: str) -> Explanation:
    if a == b:
        raise ResolveError(f"{a} twice: give two records (or one entity) to explain")
    for rid in (a, b):
        _record_type(ws, rid)
    ea, eb = _entity_of(ws, a), _entity_of(ws, b)
    same = ea is not None and ea == eb
    title = f"{a} and {b}: " + (
        f"one entity ({ea})" if same else f"different entities ({ea or '-'}, {eb or '-'})"
    )
    lines: list[str] = []
    edge = ws.store.rows(
        "SELECT match_weight, probability, evidence FROM match_edges WHERE "
        "(record_a = ? AND record_b = ?) OR (record_a = ? AND record_b = ?)",
        (a, b, b, a),
    )
    if edge:
        weight, prob, evidence = edge[0]
        w = f"match weight {weight:+.1f}, " if weight is not None else ""
        lines.append(f"linked directly: {w}probability {prob:.3f}")
        if weight is not None:  # a link the model scored (not an anchor or a judgement)
            from lastmile.resolve import run

            lines += _prior(run.latest_model(ws), "- ")
        lines += [f"- {part}" for part in str(evidence or "").split("; ") if part]
        if not same:
            lines.append(
                "kept apart when clustering: an analyst judged them (or records joined to "
                "them) different, their entities hold dates of birth that cannot be one "
                "person's, or they are subject records of one case file (below)"
            )
    else:
        lines.append("not linked directly")
        if _record_type(ws, a) == "subjects" and _record_type(ws, b) == "subjects":
            lines += _model_score(ws, a, b)
    if not same:
        lines += _one_case_file(ws, a, b)
    judged = ws.store.rows(
        "SELECT verdict, analyst, made_at FROM judgements WHERE (record_a = ? AND record_b = ?) "
        "OR (record_a = ? AND record_b = ?) ORDER BY made_at",
        (a, b, b, a),
    )
    lines += [f"judged {v} by {who} at {when}" for v, who, when in judged]
    lines += _shared(ws, a, b)
    return Explanation(title, lines)


def _one_case_file(ws: Workspace, a: str, b: str) -> list[str]:
    """The case-file rule, named when it applies: two subject records of one investigation
    never end in one entity (docs/resolution-rounds.md, "Issue 10, third round")."""
    rows = ws.store.rows(
        "SELECT DISTINCT s1.investigation_id FROM subjects s1 JOIN subjects s2 "
        "ON s1.investigation_id = s2.investigation_id "
        "WHERE s1.subject_id = ? AND s2.subject_id = ?",
        (a, b),
    )
    if not rows:
        return []
    return [
        f"both are subject records of case file {rows[0][0]}, which lists them as two "
        "people: they join only through their own link showing a duplicate (one date of "
        "birth, a moniker or an identifier on both) or an analyst's 'same'"
    ]


def _model_score(ws: Workspace, a: str, b: str) -> list[str]:
    """The last run's model applied to the two records, whether or not they were ever
    compared: the match weight, the probability, each field's level and weight, and the
    rule that would forbid the merge (docs/resolution.md, "Explanations")."""
    from lastmile.resolve import cluster, persons, run
    from lastmile.store.backends import register_table

    model = run.latest_model(ws)
    if model is None:
        return ["no saved model to score them with: run 'lastmile resolve' first"]
    con = ws.store.staging()
    features = run.build_features(ws, con)
    scored = persons.score_pair(features, model, a, b)
    register_table(con, scored, "explain_pair")
    row = con.execute(
        f"SELECT match_weight, match_probability, found_by_blocking_rules, "
        f"{run.evidence_sql(model)}, {run.veto_sql(model)} FROM explain_pair"
    ).fetchone()
    if row is None:  # pragma: no cover - score_pair returns one row
        return []
    weight, prob, found, evidence, veto = row
    # The threshold the run applied to this pair: run.threshold_sql, the rule the run
    # itself uses (with the prior estimated, a pair where either record carries stated ties
    # needs the tied threshold).
    threshold = run.threshold_sql(con, run.tied_threshold(run.latest_prior(ws)))
    at_row = con.execute(f"SELECT {threshold} FROM explain_pair").fetchone()
    at = float(at_row[0]) if at_row else cluster.THRESHOLD
    why = ", as one of them carries stated ties" if at != cluster.THRESHOLD else ""
    lines = [
        f"the model of the last run scores them: match weight {weight:+.1f}, "
        f"probability {prob:.3f} (merged at {at:g} or more{why})"
    ]
    lines += _prior(model, "- ")
    lines += [f"- {part}" for part in str(evidence or "").split("; ") if part]
    if not found:
        lines.append("no blocking rule pairs them, so the model never compared them")
    if veto:
        lines.append(f"a rule keeps them apart: {veto}")
    return lines


def _prior(model: dict[str, Any] | None, lead: str) -> list[str]:
    """The first bar of Splink's waterfall, in words: the weight every pair starts from
    before any field is compared (log2 of the prior odds that two records are one person).
    Without it the fields' weights do not add up to the match weight shown."""
    prior = (model or {}).get("probability_two_random_records_match")
    if not isinstance(prior, float | int) or not 0 < prior < 1:
        return []
    weight = math.log2(prior / (1 - prior))
    return [
        f"{lead}the prior ({weight:+.1f}): two records taken at random are one person about "
        f"1 time in {round(1 / prior):,}"
    ]


def _identifier_conflicts(ws: Workspace, records: set[str]) -> list[str]:
    """The latest run's identifier conflicts that name one of ``records``, in words."""
    latest = ws.store.rows(
        "SELECT counts_json FROM resolution_runs ORDER BY finished_at DESC LIMIT 1"
    )
    flagged = json.loads(latest[0][0] or "{}").get("identifier_conflicts", []) if latest else []
    from lastmile.resolve.run import identifier_conflict_line

    lines = []
    for a, b, why in flagged:
        if a in records or b in records:
            mine, other = (a, b) if a in records else (b, a)
            lines.append(identifier_conflict_line(mine, why, other))
    return lines


def explain_entity(ws: Workspace, entity_id: str) -> Explanation:
    """Why an entity's records were merged. Given a record id instead (what an analyst has
    in hand from a case file), the entity that record is in."""
    ent = ws.store.rows(
        "SELECT kind, best_name, names, selectors FROM entities WHERE entity_id = ?",
        (entity_id,),
    )
    if not ent:
        holders = sorted(
            {
                str(e)
                for (e,) in ws.store.rows(
                    "SELECT entity_id FROM entity_members WHERE record_id = ?", (entity_id,)
                )
            }
        )
        if len(holders) == 1:
            exp = explain_entity(ws, holders[0])
            return Explanation(f"record {entity_id} is in {exp.title}", exp.lines)
        if holders:
            raise ResolveError(
                f"{entity_id!r} is a record of {len(holders)} entities ({', '.join(holders)}): "
                "give one of them"
            )
        raise ResolveError(
            f"no entity or record {entity_id!r}; run 'lastmile resolve' first, or check the id"
        )
    kind, best, names, sels = ent[0]
    members = [
        (str(t), str(r), float(p))
        for t, r, p in ws.store.rows(
            "SELECT record_type, record_id, probability FROM entity_members WHERE entity_id = ? "
            "ORDER BY record_type, record_id",
            (entity_id,),
        )
    ]
    lines = [f"names: {names or '-'}", f"selectors: {sels or '-'}"]
    lines.append(f"{len(members)} records: " + ", ".join(r for _, r, _ in members))
    if kind == "person":
        ids = [r for _, r, _ in members]
        marks = ", ".join("?" for _ in ids)
        edges = ws.store.rows(
            f"SELECT record_a, record_b, match_weight, probability, evidence FROM match_edges "
            f"WHERE record_a IN ({marks}) AND record_b IN ({marks}) ORDER BY probability DESC, "
            "record_a, record_b",
            (*ids, *ids),
        )
        shown = 20
        if any(w is not None for _, _, w, _, _ in edges):
            from lastmile.resolve import run

            lines += _prior(run.latest_model(ws), "each link's weight adds its fields' weights to ")
        for a, b, w, p, ev in edges[:shown]:
            weight = f"weight {w:+.1f}, " if w is not None else ""
            lines.append(f"{a} ~ {b}: {weight}probability {p:.3f}")
            lines += [f"  - {part}" for part in str(ev or "").split("; ") if part]
        if len(edges) > shown:
            lines.append(
                f"... and {len(edges) - shown} more links (lastmile explain RECORD RECORD)"
            )
        # What the resolution left apart from it, for the analyst to judge (review.py).
        from lastmile.resolve.review import count_entity_pairs

        pairs = count_entity_pairs(ws, entity_id)
        if pairs:
            lines.append(f"possible matches left apart: {pairs} (lastmile review {entity_id})")
        lines += _identifier_conflicts(ws, {r for _, r, _ in members})
    elif kind == "organization":
        lines.append("merged on a shared name or alias (cartel synonyms normalized)")
    else:
        lines.append("one normalized selector")
    return Explanation(f"{entity_id} ({kind}): {best or '-'}", lines)
