"""The multi-agency server (issue 13): FastAPI app, identity, need-to-know, audit trail.

``create_app(ServerConfig(workspace=...))`` builds the application; ``lastmile serve`` runs it
with uvicorn. Reads of case data go through :mod:`lastmile.server.policy` only; every request
under /api is written to the hash-chained audit trail (:mod:`lastmile.server.audit`).
"""

from lastmile.server.app import ServerConfig, create_app

__all__ = ["ServerConfig", "create_app"]
