"""The learned link model kept with the stored analysis (migration 0011, ``link_models``).

``lastmile links NETWORK`` learns from every network of the workspace, so every call would
train the same bag again (docs/networks.md, "Kept model"). :func:`workspace_link_model` keeps
the fitted bag in the workspace, on either store, and reads it back on the next call when,
and only when, everything it was made from is the same:

- ``run_id``: the stored analysis it was trained with. A rerun of ``lastmile analyze`` deletes
  every kept model in its own transaction, and a ``lastmile resolve`` after the analysis makes
  the analysis stale: then nothing is kept or read;
- ``seed``; ``params``: the bag's parameters (rounds, hidden share, members, boosting);
- ``code``: :func:`lastmile.network.linklearn.code_digest`, the files of the feature and
  training code and the versions of the libraries that compute them;
- ``data``: :func:`lastmile.network.linklearn.training_digest`, what it was trained on (the
  graph of all networks, its ties and attributes): records ingested since the analysis that
  change a tie or an attribute make it stale even without a resolve.

A model whose key does not match, whose bytes do not match their SHA-256, or that can not be
read as the members, reference row and feature names it should hold, is trained again and
replaced, never used.

Keeping is a cache a reading command never fails or waits for: without a fresh analysis, on a
workspace opened read-only, without skops, when the store refuses the write, or (PostgreSQL)
while another command holds the writer lock, the model is trained, used and not kept, and the
note says why.

**Serialization** is ``skops.io`` (not pickle): reading a pickle runs whatever code its bytes
name, and a workspace is a file or a database other people and programs write to. skops
reads only the types it is told to trust; here the types scikit-learn's fitted
``HistGradientBoostingClassifier`` holds that skops does not trust by default (its tree
predictors, :data:`TRUSTED`). A kept model holding any other type is refused (and retrained).
skops 0.12 or later: 0.11 and earlier let a file name trusted-looking types that run code
(CVE-2025-54412, CVE-2025-54413).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from lastmile import __version__
from lastmile.network import linklearn
from lastmile.network.linkpred import edge_index
from lastmile.network.stored import AnalysisRun
from lastmile.store import Workspace
from lastmile.store.backends import StoreError, driver_errors

# The types of a fitted HistGradientBoostingClassifier that skops does not trust by default.
TRUSTED = ("sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",)


class KeptModelError(ValueError):
    """A kept model that can not be used (unreadable, tampered with, of another shape)."""


@dataclass(frozen=True)
class WorkspaceLinkModel:
    """The model for a call, and where it came from: ``kept`` (read from the workspace, no
    training), ``stored`` (trained now and kept for the next calls); ``note`` says so in one
    line; ``seconds`` the training's (or the kept model's) time to train."""

    model: linklearn.LinkModel
    kept: bool
    stored: bool
    note: str
    seconds: float


def params(
    rounds: int = linklearn.ROUNDS, hide: float = linklearn.HIDE, bag: int = linklearn.BAG
) -> str:
    """The bag's parameters as the key's JSON (the rule that sets each member's smallest
    leaf, :func:`lastmile.network.linklearn.min_samples_leaf`, is code: in the code key)."""
    return json.dumps(
        {
            "rounds": rounds,
            "hide": hide,
            "bag": bag,
            "bag_stride": linklearn.BAG_STRIDE,
            "boosting": linklearn.BOOSTING,
        },
        sort_keys=True,
    )


def skops_format() -> str | None:
    """The serialization's name and version (``skops 0.16.0``), or None when skops is not
    installed (the ``graph`` extra without it, or an install that lost it): then the model is
    trained and not kept."""
    import importlib.metadata as md

    try:
        import skops.io  # noqa: F401

        return f"skops {md.version('skops')}"
    except (ImportError, md.PackageNotFoundError):
        return None


def dump_model(model: linklearn.LinkModel) -> bytes:
    """The members, the reference row of the explanations and the feature names, by skops."""
    import skops.io as sio

    payload = {
        "features": list(model.names),
        "members": model.members,
        "reference": np.asarray(model.reference, dtype=np.float64),
    }
    return bytes(sio.dumps(payload))


def load_model(
    blob: bytes, ix: Any, names: list[str], feature_names: list[str], seed: int
) -> linklearn.LinkModel:
    """A model from :func:`dump_model`'s bytes, for the graph and context indexed as ``ix``;
    raises :class:`KeptModelError` if it holds an untrusted type or is not what it should be."""
    import skops.io as sio
    from sklearn.ensemble import HistGradientBoostingClassifier

    try:
        untrusted = set(sio.get_untrusted_types(data=blob))
    except Exception as exc:  # a zip skops can not read: any error of the reader
        raise KeptModelError(f"not a skops file ({type(exc).__name__}: {exc})") from exc
    if untrusted - set(TRUSTED):
        raise KeptModelError(f"holds types not trusted: {', '.join(sorted(untrusted))}")
    try:
        payload = sio.loads(blob, trusted=sorted(untrusted))
    except Exception as exc:
        raise KeptModelError(f"unreadable ({type(exc).__name__}: {exc})") from exc
    if not isinstance(payload, dict) or set(payload) != {"features", "members", "reference"}:
        raise KeptModelError("not a kept link model")
    members = payload["members"]
    if not isinstance(members, list) or not all(
        isinstance(m, HistGradientBoostingClassifier) for m in members
    ):
        raise KeptModelError("its members are not gradient-boosted classifiers")
    width = len(feature_names)
    try:  # any value of another shape or type is a model not to use, never a crash
        if list(payload["features"]) != list(feature_names):
            raise KeptModelError("its features are not those of this workspace")
        if any(int(m.n_features_in_) != width for m in members):
            raise KeptModelError("its members were fitted on another number of features")
        if any(list(m.classes_) != [0.0, 1.0] for m in members):
            raise KeptModelError("its members are not tie / no-tie classifiers")
        reference = np.asarray(payload["reference"], dtype=np.float64)
    except KeptModelError:
        raise
    except (AttributeError, TypeError, ValueError) as exc:
        raise KeptModelError(f"not what it should be ({type(exc).__name__}: {exc})") from exc
    if members and reference.shape != (width,):
        raise KeptModelError("its reference row does not fit its features")
    return linklearn.link_model(ix, names, feature_names, members, reference, seed)


def _read(
    ws: Workspace, run_id: str, seed: int, key: dict[str, str]
) -> tuple[bytes, str, float, Any] | str | None:
    """The kept model's bytes, SHA-256, training seconds and time for this key; else what
    differs (a row of this run and seed with another key), or None."""
    rows = ws.store.rows(
        "SELECT params, code, data, format, sha256, model, seconds, trained_at "
        "FROM link_models WHERE run_id = ? AND seed = ?",
        (run_id, seed),
    )
    stale = None
    for p, code, data, fmt, sha, blob, seconds, trained_at in rows:
        differs = [
            name
            for name, have, want in (
                ("parameters", p, key["params"]),
                ("code or libraries", code, key["code"]),
                ("data", data, key["data"]),
                ("format", fmt, key["format"]),
            )
            if have != want
        ]
        if differs:
            stale = f"the kept one is stale: {' and '.join(differs)} changed"
            continue
        return bytes(blob), str(sha), float(seconds or 0.0), trained_at
    return stale


def _write(
    ws: Workspace,
    run_id: str,
    seed: int,
    key: dict[str, str],
    blob: bytes,
    seconds: float,
) -> bool:
    """Replace this run and seed's kept model (and drop other runs'), in one transaction, if
    no other writer holds the workspace now; False (nothing written) if one does: a reading
    command does not wait behind an ingest, resolve or analyze to keep a cache."""
    store = ws.store
    with store.transaction_if_free() as free:
        if not free:
            return False
        store.execute("DELETE FROM link_models WHERE run_id <> ? OR seed = ?", (run_id, seed))
        store.execute(
            "INSERT INTO link_models (run_id, seed, params, code, data, format, sha256, model, "
            "trained_at, seconds, lastmile_version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TIMESTAMP), ?, ?)",
            (
                run_id,
                seed,
                key["params"],
                key["code"],
                key["data"],
                key["format"],
                hashlib.sha256(blob).hexdigest(),
                blob,
                datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
                round(seconds, 3),
                __version__,
            ),
        )
    return True


def workspace_link_model(
    ws: Workspace,
    network: Any,
    context: linklearn.LinkContext,
    run: AnalysisRun | None,
    *,
    seed: int = 0,
    retrain: bool = False,
    progress: linklearn.Progress | None = None,
) -> WorkspaceLinkModel:
    """The learned model of ``network`` (the graph of all the workspace's networks,
    :func:`lastmile.network.linklearn.workspace_graph`) and its ``context``: the kept one when
    its key matches (the module's docstring), else trained now (``progress`` hears of it) and
    kept when ``run``, the workspace's latest analysis
    (:func:`lastmile.network.stored.latest_analysis`), is fresh. ``retrain``: train even if
    one is kept."""
    g = network.graph
    names = [str(v) for v in (g.vs["name"] if g.vcount() else [])]
    edges = edge_index(g)
    fmt = skops_format()
    why = ""
    if run is None:
        unkept = "no network analysis is stored (lastmile analyze stores one)"
    elif not run.fresh:
        unkept = "the analysis is stale (lastmile analyze stores one)"
    elif fmt is None:
        unkept = "skops is not installed (pip install 'lastmile[graph]')"
    else:
        unkept = ""
        key = {
            "params": params(),
            "code": linklearn.code_digest(),
            "data": linklearn.training_digest(names, edges, context),
            "format": fmt,
        }
        found = None if retrain else _read(ws, run.run_id, seed, key)
        if isinstance(found, str):
            why = found
        elif found is not None:
            blob, sha, seconds, trained_at = found
            try:
                if hashlib.sha256(blob).hexdigest() != sha:
                    raise KeptModelError("its bytes do not match their SHA-256")
                ix = linklearn.link_index(names, context)
                model = load_model(blob, ix, names, linklearn.feature_names(ix), seed)
            except KeptModelError as exc:
                why = f"the kept one can not be used: {exc}"
            else:
                when = f"{trained_at:%Y-%m-%d %H:%M}" if trained_at is not None else "earlier"
                note = (
                    f"link model: kept in the workspace (trained {when} UTC in {seconds:.1f} s "
                    f"with analysis run {run.run_id}, seed {seed}): scoring only "
                    "(--retrain trains it again)"
                )
                return WorkspaceLinkModel(model, True, False, note, seconds)
        elif retrain:
            why = "--retrain"
    begin = time.perf_counter()
    model = linklearn.fit_link_model(names, edges, context, seed=seed, progress=progress)
    seconds = time.perf_counter() - begin
    trained = f"link model: trained in {seconds:.1f} s on {g.ecount():,} ties"
    if why:
        trained += f" ({why})"
    if not unkept and ws.read_only:
        unkept = "the workspace is opened read-only"
    if unkept:
        return WorkspaceLinkModel(model, False, False, f"{trained}; not kept: {unkept}", seconds)
    assert run is not None
    failures: tuple[type[Exception], ...] = (StoreError, *driver_errors())
    try:
        kept = _write(ws, run.run_id, seed, key, dump_model(model), seconds)
    except failures as exc:  # a workspace that refuses the write: the answer stands, unkept
        note = f"{trained}; could not keep it in the workspace: {exc}"
        return WorkspaceLinkModel(model, False, False, note, seconds)
    if not kept:
        note = (
            f"{trained}; not kept: another lastmile command is writing to the workspace "
            "(a later call keeps it)"
        )
        return WorkspaceLinkModel(model, False, False, note, seconds)
    note = f"{trained}; kept in the workspace for the next calls"
    return WorkspaceLinkModel(model, False, True, note, seconds)
