"""``lastmile analyze``: every network analysis of a workspace in one pass, timed by stage."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyarrow as pa

from lastmile.store import Workspace


@dataclass
class Analysis:
    """The tables of one analysis and the seconds each stage took."""

    ties: pa.Table
    members: pa.Table
    networks: pa.Table
    key_players: pa.Table
    attribution: pa.Table
    seconds: dict[str, float] = field(default_factory=dict)

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
            lines.append(f"  tied to {cartel:<20} {count:,}")
        lines.append(f"agency label agrees          {agree:,}; disagrees {disagree:,}")
        keys = self.key_players.to_pylist()
        for r in nets[:top_networks]:
            top = [k["entity_id"] for k in keys if k["network_id"] == r["network_id"]][:5]
            who = f"{r['network_id']} ({r['people']} people)"
            lines.append(f"key players of {who}: {', '.join(top)}")
        timing = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        lines.append(f"time: {timing}")
        return "\n".join(lines) + "\n"


def analyze(ws: Workspace, *, k: int = 10, seed: int = 0) -> Analysis:
    """Ties, distribution networks, key players (top ``k`` of each) and cartel attribution."""
    from lastmile.network.attribution import workspace_attribution
    from lastmile.network.keyplayer import key_players
    from lastmile.network.networks import network_graphs, workspace_networks
    from lastmile.network.workspace import entity_ties

    seconds: dict[str, float] = {}
    start = time.perf_counter()
    ties = entity_ties(ws)
    seconds["ties"] = time.perf_counter() - start
    start = time.perf_counter()
    members, networks = workspace_networks(ws, ties)
    seconds["networks"] = time.perf_counter() - start
    start = time.perf_counter()
    rows: list[dict[str, object]] = []
    for nid, net in network_graphs(ws, ties, members).items():
        for r in key_players(net, k, seed=seed).table.select(["rank", "id", "score"]).to_pylist():
            rows.append(
                {"network_id": nid, "entity_id": r["id"], "rank": r["rank"], "score": r["score"]}
            )
    keys = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("network_id", pa.string()),
                ("entity_id", pa.string()),
                ("rank", pa.int64()),
                ("score", pa.float64()),
            ]
        ),
    )
    seconds["key players"] = time.perf_counter() - start
    start = time.perf_counter()
    attribution = workspace_attribution(ws, ties, members)
    seconds["attribution"] = time.perf_counter() - start
    return Analysis(ties, members, networks, keys, attribution, seconds)
