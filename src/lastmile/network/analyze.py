"""``lastmile analyze``: every network analysis of a workspace in one pass, timed by stage.

:func:`analyze` computes; :func:`lastmile.network.stored.store_analysis` writes the result to
the workspace (``ties``, ``networks``, ``network_members``, ``key_players``, ``attributions``
and one ``analysis_runs`` row, in one transaction); :func:`run_analysis` does both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyarrow as pa

from lastmile.store import Workspace

KEY_PLAYERS_STORED = 10

MEMBER_SCHEMA = pa.schema(
    [
        ("entity_id", pa.string()),
        ("network_id", pa.string()),
        ("upstream", pa.bool_()),
        ("community", pa.string()),
    ]
)

KEY_PLAYER_SCHEMA = pa.schema(
    [
        ("network_id", pa.string()),
        ("entity_id", pa.string()),
        ("rank", pa.int64()),
        ("score", pa.float64()),
        ("why", pa.string()),
    ]
)


@dataclass
class Analysis:
    """The tables of one analysis and the seconds each stage took.

    ``members``: entity_id, network_id, upstream, community (the Leiden community inside the
    network, ``"0"`` the largest). ``networks``: the summary of
    :func:`lastmile.network.networks.workspace_networks` with ``seizures`` and
    ``communities``. ``key_players``: network_id, entity_id, rank, score, why.
    """

    ties: pa.Table
    members: pa.Table
    networks: pa.Table
    key_players: pa.Table
    attribution: pa.Table
    seconds: dict[str, float] = field(default_factory=dict)
    run_id: str | None = None  # set once stored (analysis_runs.run_id)

    def counts(self) -> dict[str, int]:
        """Rows of each table, and networks that are not upstream."""
        local = [r for r in self.networks.column("upstream").to_pylist() if not r]
        return {
            "ties": self.ties.num_rows,
            "networks": len(local),
            "upstream_networks": self.networks.num_rows - len(local),
            "members": self.members.num_rows,
            "key_players": self.key_players.num_rows,
            "attributions": self.attribution.num_rows,
        }

    def summary(self, top_networks: int = 3) -> str:
        """The networks section in words: counts, cartels, labels, top key players."""
        nets = [r for r in self.networks.to_pylist() if not r["upstream"]]
        upstream = self.networks.num_rows - len(nets)
        multi = [r for r in nets if r["multi_city"]]
        by_cartel: dict[str, int] = {}
        agree = disagree = 0
        for r in self.attribution.to_pylist():
            by_cartel[r["cartel"]] = by_cartel.get(r["cartel"], 0) + 1
            agree += r["agrees"] is True
            disagree += r["agrees"] is False
        lines = [
            f"networks mapped              {len(nets):,}"
            f" (and {upstream:,} upstream: hubs, cartels)",
            f"multi-city networks          {len(multi):,}",
        ]
        for cartel, count in sorted(by_cartel.items(), key=lambda kv: (-kv[1], kv[0])):
            label = "unattributed" if cartel == "Unattributed" else f"tied to {cartel}"
            lines.append(f"  {label:<28} {count:,}")
        lines.append(f"agency label agrees          {agree:,} networks; disagrees {disagree:,}")
        keys = self.key_players.to_pylist()
        for r in nets[:top_networks]:
            top = [k["entity_id"] for k in keys if k["network_id"] == r["network_id"]][:5]
            who = f"{r['network_id']} ({r['people']} people)"
            lines.append(f"key players of {who}: {', '.join(top)}")
        timing = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        lines.append(f"time: {timing}")
        if self.run_id:
            lines.append(
                f"stored in the workspace (run {self.run_id}): lastmile networks, attribution, "
                "keyplayers, export and report read it"
            )
        return "\n".join(lines) + "\n"


def analyze(
    ws: Workspace,
    *,
    k: int = KEY_PLAYERS_STORED,
    seed: int = 0,
    split_seed: int = 0,
    split_runs: int | None = None,
) -> Analysis:
    """Ties, distribution networks with their Leiden communities and seizures, key players
    (top ``k`` of each network, explained) and cartel attribution.

    ``seed``: the communities inside each network and the key players; ``split_seed`` and
    ``split_runs``: rule 4's Leiden runs that split components into networks (the library's
    ``LEIDEN_RUNS`` unless given)."""
    from lastmile.network.attribution import workspace_attribution
    from lastmile.network.communities import leiden
    from lastmile.network.keyplayer import WORKSPACE_METHOD, key_players
    from lastmile.network.networks import LEIDEN_RUNS, network_graphs, workspace_networks
    from lastmile.network.stored import network_seizures
    from lastmile.network.workspace import entity_ties

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    ties = entity_ties(ws)
    seconds["ties"] = time.perf_counter() - start
    start = time.perf_counter()
    members, networks = workspace_networks(
        ws, ties, seed=split_seed, runs=LEIDEN_RUNS if split_runs is None else split_runs
    )
    seconds["networks"] = time.perf_counter() - start
    start = time.perf_counter()
    rows: list[dict[str, object]] = []
    community: dict[tuple[str, str], str] = {}
    count: dict[str, int] = {}
    graphs = network_graphs(ws, ties, members)
    for nid, net in graphs.items():
        # One Leiden partition per network: stored with the members and used as the groups
        # of the key players' brokerage roles, so 'community 2' in a why is the stored one.
        groups = leiden(net.graph, seed=seed)
        count[nid] = int(groups.max()) + 1 if len(groups) else 0
        for name, c in zip(net.ids, groups.tolist(), strict=True):
            community[(nid, name)] = str(c)
        table = key_players(net, k, method=WORKSPACE_METHOD, groups=groups, seed=seed).table
        for r in table.select(["rank", "id", "score", "why"]).to_pylist():
            rows.append(
                {
                    "network_id": nid,
                    "entity_id": r["id"],
                    "rank": r["rank"],
                    "score": r["score"],
                    "why": r["why"],
                }
            )
    keys = pa.Table.from_pylist(rows, schema=KEY_PLAYER_SCHEMA)
    members = pa.Table.from_pylist(
        [
            {**r, "community": community.get((r["network_id"], r["entity_id"]))}
            for r in members.to_pylist()
        ],
        schema=MEMBER_SCHEMA,
    )
    seconds["key players"] = time.perf_counter() - start
    start = time.perf_counter()
    attribution = workspace_attribution(ws, ties, members)
    seconds["attribution"] = time.perf_counter() - start
    start = time.perf_counter()
    seized = network_seizures(ws, members)
    ids = networks.column("network_id").to_pylist()
    networks = networks.append_column(
        "seizures", pa.array([seized.get(n, 0) for n in ids], pa.int64())
    ).append_column("communities", pa.array([count.get(n, 0) for n in ids], pa.int64()))
    seconds["seizures"] = time.perf_counter() - start
    return Analysis(ties, members, networks, keys, attribution, seconds)


def run_analysis(ws: Workspace, *, k: int = KEY_PLAYERS_STORED, seed: int = 0) -> Analysis:
    """Analyze the workspace and store the result (one transaction); ``seconds`` gains
    ``store``, the time the write took."""
    from lastmile.network.stored import latest_resolution_run, store_analysis

    started = time.time()
    # read before the analysis: a resolve that finishes while it runs makes it stale
    resolution_run = latest_resolution_run(ws)
    result = analyze(ws, k=k, seed=seed)
    result.run_id = store_analysis(ws, result, started=started, resolution_run=resolution_run)
    return result
