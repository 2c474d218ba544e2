"""Which network rule moves a true network between two resolutions of one synthetic world.

Two workspaces resolved from the same records (say with and without resolution's date
override) give two sets of networks. This bench builds both with this code
(``distribution_networks`` as ``workspace_networks`` calls it), recording what each rule
hands to the next, and for every true network whose subject records are grouped differently
in the two, prints JSON:

- ``stages``: for each workspace and each step (``upstream``: hubs, suppliers above them,
  stated cartel members; ``component``: the criminal component after rule 2's cuts, the
  graph rule 4 partitions; ``rule4``; ``rule5``; ``rule6``; ``rejoin``: hubs back in their
  organization's network; ``fragments``; ``final``), how the true network's records fall
  (group -> records, with the records of other true networks in that group);
- ``first_change``: the first step at which the two workspaces group the true network's
  records differently (who is with whom among its records, or which other true networks'
  records share their groups);
- ``joined``: the entities of the second workspace that hold records of two or more entities
  of the first (the merges one resolution made and the other did not) among the true
  network's entities or in its groups, with their cities, their ties (kind, records, the
  other end's true network and network) and each one's place at every step.

    .venv/bin/python bench/network_trace.py /work/data/nat -a OFF.duckdb -b ON.duckdb --top 12
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa

import lastmile.network.networks as nw
from lastmile.network.networks import (
    MIN_EVENTS,
    distribution_networks,
)
from lastmile.network.workspace import entity_ties
from lastmile.store import open_workspace
from network_truth import apply_hubs_by_market, hubs_by_market_option, read_truth

STAGES = ("upstream", "component", "rule4", "rule5", "rule6", "rejoin", "fragments", "final")


def _groups_label(groups: list[list[str]], stage: str) -> dict[str, str]:
    return {n.split("#")[0]: f"{stage}:{i}" for i, names in enumerate(groups) for n in names}


def traced_networks(ws: Any) -> tuple[dict[str, dict[str, str]], pa.Table, dict[str, Any]]:
    """Entity -> step -> its group at that step; the ties; what each workspace holds."""
    ties = entity_ties(ws)
    inputs = nw.network_inputs(ws, ties)
    org_kind, cartel_members, case_files = inputs.org_kind, inputs.cartel_members, inputs.case_files
    cities = {e: c for e, c in inputs.cities_of.items() if c}
    cartels = {e for e, k in org_kind.items() if k == "cartel"}

    seen: dict[str, list[list[str]]] = {s: [] for s in STAGES}
    marks: dict[str, set[str]] = {"hubs": set(), "above": set(), "regional_cut": set()}
    depth = [0]
    originals = {
        name: getattr(nw, name)
        for name in (
            "split_communities",
            "attach",
            "attach_by_case_file",
            "join_own_organization",
            "attach_fragments",
            "hubs",
            "suppliers_above",
            "regional_supply_ties",
        )
    }

    def split(part: Any, **kw: Any) -> list[list[int]]:
        depth[0] += 1
        try:
            out = originals["split_communities"](part, **kw)
        finally:
            depth[0] -= 1
        if depth[0] == 0:
            names = part.vs["name"]
            seen["component"].append(list(names))
            seen["rule4"].extend([[names[i] for i in group] for group in out])
        return out

    def stage(name: str, label: str) -> Any:
        def wrapped(*args: Any, **kw: Any) -> Any:
            out = originals[name](*args, **kw)
            groups = out[0] if isinstance(out, tuple) else out
            seen[label] = [list(g) for g in groups]
            return out

        return wrapped

    def found_hubs(*args: Any, **kw: Any) -> set[str]:
        out = originals["hubs"](*args, **kw)
        marks["hubs"] |= out
        return out

    def above(*args: Any, **kw: Any) -> set[str]:
        out = originals["suppliers_above"](*args, **kw)
        marks["above"] |= out
        return out

    def regional(g: Any, places: Any, **kw: Any) -> list[int]:
        out = originals["regional_supply_ties"](g, places, **kw)
        names = g.vs["name"]
        for i in out:
            a, b = g.es[i].tuple
            marks["regional_cut"].add(f"{names[a]}|{names[b]}")
        return out

    nw.split_communities = split  # type: ignore[assignment]
    nw.attach = stage("attach", "rule5")  # type: ignore[assignment]
    nw.attach_by_case_file = stage("attach_by_case_file", "rule6")  # type: ignore[assignment]
    nw.join_own_organization = stage("join_own_organization", "rejoin")  # type: ignore[assignment]
    nw.attach_fragments = stage("attach_fragments", "fragments")  # type: ignore[assignment]
    nw.hubs = found_hubs  # type: ignore[assignment]
    nw.suppliers_above = above  # type: ignore[assignment]
    nw.regional_supply_ties = regional  # type: ignore[assignment]
    try:
        members = distribution_networks(
            ties, org_kind, cartel_members, cities, case_files, city_records=inputs.city_records
        )
    finally:
        for name, f in originals.items():
            setattr(nw, name, f)
    where: dict[str, dict[str, str]] = {}
    upstream = marks["hubs"] | marks["above"] | cartel_members | cartels
    for e in upstream:
        kind = (
            "hub"
            if e in marks["hubs"] - marks["above"]
            else "above"
            if e in marks["above"]
            else "cartel"
        )
        where.setdefault(e, {})["upstream"] = kind
    for s in STAGES[1:-1]:
        for e, label in _groups_label(seen[s], s).items():
            where.setdefault(e, {})[s] = label
    for r in members.to_pylist():
        flag = "up:" if r["upstream"] else ""
        where.setdefault(str(r["entity_id"]), {})["final"] = flag + str(r["network_id"])
    info = {
        "cities": cities,
        "org_kind": org_kind,
        "regional_cut": marks["regional_cut"],
        "cases": {
            e: {inv for inv, named in case_files.items() if e in named}
            for e in set().union(*case_files.values())
        },
    }
    return where, ties, info


def _records(ws: Any) -> dict[str, str]:
    """record (any type) -> entity."""
    return {
        f"{t}:{r}": str(e)
        for t, r, e in ws.store.rows("SELECT record_type, record_id, entity_id FROM entity_members")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world", type=Path)
    parser.add_argument("-a", required=True, help="the first resolved workspace (e.g. off)")
    parser.add_argument("-b", required=True, help="the second resolved workspace (e.g. on)")
    parser.add_argument("--top", type=int, default=12, help="true networks to trace")
    parser.add_argument("--network", action="append", help="trace these true networks only")
    hubs_by_market_option(parser)
    args = parser.parse_args()
    apply_hubs_by_market(args)
    world = read_truth(args.world)
    truth = world.network_of
    sides: dict[str, dict[str, Any]] = {}
    for side, path in (("a", args.a), ("b", args.b)):
        with open_workspace(path, create=False) as ws:
            where, ties, info = traced_networks(ws)
            records = _records(ws)
        sides[side] = {"where": where, "ties": ties, "info": info, "records": records}
    # Subject records of people in a true network: (record, true network).
    subjects = {
        rec: truth[world.person_of[rec.split(":", 1)[1]]]
        for rec in sides["a"]["records"]
        if rec.startswith("subjects:")
        and truth.get(world.person_of.get(rec.split(":", 1)[1], ""), "")
    }

    def label(side: str, rec: str, stage: str) -> str:
        e = sides[side]["records"][rec]
        return sides[side]["where"].get(e, {}).get(stage, f"-{e}")

    def layout(side: str, tnet: str, stage: str) -> list[dict[str, Any]]:
        mine = [r for r, t in subjects.items() if t == tnet]
        groups = Counter(label(side, r, stage) for r in mine)
        out = []
        for g, n in groups.most_common():
            others = Counter(
                t for r, t in subjects.items() if t != tnet and label(side, r, stage) == g
            )
            out.append({"group": g, "records": n, "others": dict(others.most_common(4))})
        return out

    def shape(side: str, tnet: str, stage: str) -> tuple[Any, ...]:
        """Side-independent: which of the network's records are together, and how many
        records of which other true networks share each group."""
        mine = sorted(r for r, t in subjects.items() if t == tnet)
        by_group: dict[str, list[str]] = {}
        for r in mine:
            by_group.setdefault(label(side, r, stage), []).append(r)
        out = []
        for g, rs in by_group.items():
            together = tuple(rs) if not g.startswith("-") else tuple((x,) for x in rs)
            others = tuple(
                sorted(
                    Counter(
                        t for r, t in subjects.items() if t != tnet and label(side, r, stage) == g
                    ).items()
                )
            )
            out.append((together, others if not g.startswith("-") else ()))
        return tuple(sorted(out, key=str))

    changed = [
        t
        for t in sorted(set(subjects.values()))
        if shape("a", t, "final") != shape("b", t, "final")
    ]
    if args.network:
        changed = [t for t in changed if t in set(args.network)] or list(args.network)
    changed.sort(key=lambda t: -sum(1 for x in subjects.values() if x == t))
    # Entities of b that join records of two or more entities of a.
    a_of = sides["a"]["records"]
    parts: dict[str, set[str]] = {}
    for rec, e in sides["b"]["records"].items():
        if rec in a_of:
            parts.setdefault(e, set()).add(a_of[rec])
    joined = {e: p for e, p in parts.items() if len(p) > 1}
    true_of_entity: dict[str, dict[str, Counter[str]]] = {"a": {}, "b": {}}
    for side in ("a", "b"):
        for rec, t in subjects.items():
            e = sides[side]["records"][rec]
            true_of_entity[side].setdefault(e, Counter())[t] += 1

    def entity_report(e: str) -> dict[str, Any]:
        b = sides["b"]
        ties = [
            r
            for r in b["ties"].select(["source", "target", "kind", "records"]).to_pylist()
            if e in (r["source"], r["target"])
        ]
        tied = []
        for r in ties:
            other = r["target"] if r["source"] == e else r["source"]
            kind = r["kind"]
            if kind == "communication" and (r["records"] or 0) < MIN_EVENTS:
                kind = "communication<3"
            if r["kind"] == "supply":
                kind = "supplies" if r["source"] == e else "supplied_by"
            tied.append(
                {
                    "kind": kind,
                    "records": r["records"],
                    "other": other,
                    "other_true": dict(true_of_entity["b"].get(other, Counter())),
                    "other_cities": sorted(b["info"]["cities"].get(other, ())),
                    "other_final": b["where"].get(other, {}).get("final"),
                }
            )
        return {
            "entity": e,
            "true": dict(true_of_entity["b"].get(e, Counter())),
            "from": {
                p: {
                    "true": dict(true_of_entity["a"].get(p, Counter())),
                    "cities": sorted(sides["a"]["info"]["cities"].get(p, ())),
                    "a_where": sides["a"]["where"].get(p, {}),
                }
                for p in sorted(joined[e])
            },
            "cities": sorted(b["info"]["cities"].get(e, ())),
            "b_where": b["where"].get(e, {}),
            "ties": sorted(tied, key=lambda t: (t["kind"], -int(t["records"] or 0))),
        }

    report = []
    for tnet in changed[: args.top]:
        first = next(
            (s for s in STAGES if shape("a", tnet, s) != shape("b", tnet, s)),
            None,
        )
        groups_b = {
            label("b", r, s) for r, t in subjects.items() if t == tnet for s in ("final", "rule4")
        }
        involved = sorted(
            e
            for e in joined
            if tnet in true_of_entity["b"].get(e, Counter())
            or any(sides["b"]["where"].get(e, {}).get(s) in groups_b for s in ("final", "rule4"))
        )
        report.append(
            {
                "true": tnet,
                "records": sum(1 for t in subjects.values() if t == tnet),
                "first_change": first,
                "stages": {
                    s: {"a": layout("a", tnet, s), "b": layout("b", tnet, s)} for s in STAGES[1:]
                },
                "joined": [entity_report(e) for e in involved],
            }
        )
    print(
        json.dumps(
            {"changed_true_networks": changed, "joined_entities": len(joined), "trace": report},
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
