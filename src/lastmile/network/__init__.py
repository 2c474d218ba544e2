"""Network analysis: graphs, communities, key players, brokerage, disruption, link prediction.

Every function takes a :class:`Network` (an igraph graph built from an edge table) and returns
tables; the methods, their references and the decisions behind them are in docs/networks.md.
igraph is the engine (the ``graph`` extra).
"""

from lastmile.network.brokerage import brokerage
from lastmile.network.centrality import betweenness, centralities
from lastmile.network.communities import leiden
from lastmile.network.disruption import disrupt, disruption_notes, efficiency, plot_disruption
from lastmile.network.graph import (
    Network,
    NetworkError,
    build_network,
    load_network,
    network_from_graph,
    read_adjacency,
    read_edges,
)
from lastmile.network.keyplayer import fragmentation, key_player_set, key_players
from lastmile.network.linkpred import evaluate_links, predict_links

__all__ = [
    "Network",
    "NetworkError",
    "betweenness",
    "brokerage",
    "build_network",
    "centralities",
    "disrupt",
    "disruption_notes",
    "efficiency",
    "evaluate_links",
    "fragmentation",
    "key_player_set",
    "key_players",
    "leiden",
    "load_network",
    "network_from_graph",
    "plot_disruption",
    "predict_links",
    "read_adjacency",
    "read_edges",
]
