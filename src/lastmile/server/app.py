"""The FastAPI application: routes parse the request, call one function of a room (the policy
module for every read of case data), and format the answer. Every request under /api is
written to the audit trail by one middleware, refusals included.
"""

import asyncio
import json
import queue
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from lastmile import __version__, deconflict
from lastmile.export import csvsafe
from lastmile.server import audit, auth, policy
from lastmile.server.auth import AuthError, Principal, Refusal
from lastmile.store import Workspace, open_workspace

DEFAULT_MAX_UPLOAD = 256 * 1024 * 1024
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclass
class ServerConfig:
    """What ``lastmile serve`` configures (docs/deploy.md)."""

    workspace: str
    upload_dir: Path | None = None  # default: beside a DuckDB workspace, or a temp folder
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD
    session_minutes: int = 480  # absolute: a session token expires after this
    idle_minutes: float = 15  # CJIS session lock: refused after this long without a request
    conflict_distance_m: float = deconflict.DEFAULT_DISTANCE_M
    pool_size: int = 4  # PostgreSQL connections per worker; DuckDB always uses one
    event_poll_seconds: float = 1.0


class WorkspacePool:
    """Store connections for the request threads: one for a DuckDB file (used by one thread
    at a time), ``size`` for PostgreSQL. The audit trail gets its own, so a request never
    waits on the log for a connection it holds itself."""

    def __init__(self, spec: str, size: int) -> None:
        first = open_workspace(spec)
        n = 1 if first.kind == "duckdb" else max(1, size)
        self._free: queue.Queue[Workspace] = queue.Queue()
        self._free.put(first)
        for _ in range(n - 1):
            self._free.put(open_workspace(spec, create=False))
        self.all = [*self._free.queue]
        self.audit_ws = open_workspace(spec, create=False)
        self.audit = audit.Writer(self.audit_ws)
        self.kind = first.kind

    @contextmanager
    def acquire(self) -> Iterator[Workspace]:
        ws = self._free.get()
        try:
            yield ws
        finally:
            self._free.put(ws)

    def close(self) -> None:
        self.audit.close()
        for ws in [*self.all, self.audit_ws]:
            ws.close()


# -- response models (the OpenAPI description) -------------------------------------------------


class Token(BaseModel):
    access_token: str = Field(examples=["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."])
    token_type: str = Field("bearer", examples=["bearer"])
    expires_in: int = Field(examples=[1800], description="Seconds until the session ends.")


class ApiTokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100, pattern=NO_NUL, examples=["nightly export"])
    days: int = Field(90, ge=1, le=366, examples=[90])


class ApiToken(BaseModel):
    token_id: str = Field(examples=["3f9c2a7b1d04"])
    token: str = Field(examples=["lm_3f9c2a7b1d04_..."], description="Shown once.")
    expires_at: datetime


class Me(BaseModel):
    username: str = Field(examples=["a.vale"])
    agency_id: str = Field(examples=["DEA"])
    role: str = Field(examples=["analyst"])


class ShareRequest(BaseModel):
    agency_id: str | None = Field(None, max_length=100, pattern=NO_NUL, examples=["CPD"])
    username: str | None = Field(None, max_length=64, pattern=NO_NUL, examples=[None])


class OperationRequest(BaseModel):
    kind: deconflict.OperationKind = Field(examples=["search_warrant"])
    latitude: float = Field(examples=[39.7392], description="Degrees, -90 to 90 (WGS 84).")
    longitude: float = Field(examples=[-104.9903], description="Degrees, -180 to 180.")
    address: str = Field(
        "", max_length=500, pattern=NO_NUL, examples=["1200 Example St, Denver, CO"]
    )
    starts_at: datetime = Field(examples=["2023-03-01T05:00:00Z"])
    ends_at: datetime = Field(examples=["2023-03-01T09:00:00Z"])
    division: str = Field("", max_length=100, pattern=NO_NUL, examples=["Rocky Mountain"])


class JudgementRequest(BaseModel):
    verdict: str = Field(pattern="^(same|different)$", examples=["same"])
    record_a: str = Field(min_length=1, max_length=100, pattern=NO_NUL, examples=["S-1"])
    record_b: str = Field(min_length=1, max_length=100, pattern=NO_NUL, examples=["S-3"])
    note: str = Field("", max_length=1000, pattern=NO_NUL, examples=["same DOB and phone"])


class SplitRequest(BaseModel):
    records: list[Annotated[str, Field(min_length=1, max_length=100, pattern=NO_NUL)]] = Field(
        min_length=1, max_length=500, examples=[["S-3"]]
    )
    note: str = Field("", max_length=1000, pattern=NO_NUL, examples=["two different men"])


class Message(BaseModel):
    detail: str = Field(examples=["the session has expired; sign in again"])


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Message, "description": "The request is not valid."},
    401: {"model": Message, "description": "No valid token."},
    403: {"model": Message, "description": "Not allowed for this account."},
}
_JSON_ANY: dict[str, Any] = {"type": "object", "additionalProperties": True}


def _examples(example: Any) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"application/json": {"example": example}}}, **_ERRORS}


# -- the application ---------------------------------------------------------------------------


def create_app(config: ServerConfig) -> FastAPI:
    pool = WorkspacePool(config.workspace, config.pool_size)
    with pool.acquire() as ws:
        secret = auth.server_secret(ws)
    upload_root = config.upload_dir or _default_upload_dir(config.workspace)

    app = FastAPI(
        title="lastmile",
        version=__version__,
        description=(
            "The multi-agency server: need-to-know reads of case data, target and event "
            "deconfliction, the operation report, uploads and exports. Sign in at "
            "`POST /api/token` (OAuth2 password flow; `otp` when the account has a second "
            "factor) and send `Authorization: Bearer TOKEN`. Every request is audited."
        ),
    )
    app.state.pool = pool
    app.state.config = config
    bearer = HTTPBearer(auto_error=False, description="A session token or an API token.")

    def workspace() -> Iterator[Workspace]:
        with pool.acquire() as ws:
            yield ws

    WS = Annotated[Workspace, Depends(workspace)]

    def principal(
        request: Request,
        ws: WS,
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if creds is None or creds.scheme.lower() != "bearer":
            raise AuthError("sign in first: no bearer token")
        p = auth.principal_from_token(ws, creds.credentials, secret, config.idle_minutes)
        request.state.principal = p
        return p

    Caller = Annotated[Principal, Depends(principal)]

    def counted(request: Request, n: int) -> None:
        request.state.records = n

    # -- errors: one clear message, the right status -------------------------------------------

    @app.exception_handler(Refusal)
    async def refusal(request: Request, exc: Refusal) -> JSONResponse:
        request.state.detail = str(exc)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)

    @app.exception_handler(deconflict.OperationError)
    async def bad_operation(request: Request, exc: deconflict.OperationError) -> JSONResponse:
        request.state.detail = str(exc)
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        message = "; ".join(parts) or "the request is not valid"
        request.state.detail = message
        return JSONResponse({"detail": message}, status_code=422)

    @app.middleware("http")
    async def audited(request: Request, call_next: Any) -> Response:
        if not request.url.path.startswith("/api"):
            return await call_next(request)  # type: ignore[no-any-return]
        try:
            if "\x00" in request.url.path or "%00" in request.url.query:
                # PostgreSQL text cannot hold NUL: refuse it before any handler sees it.
                request.state.detail = "NUL characters are not accepted"
                response = JSONResponse({"detail": request.state.detail}, status_code=400)
            else:
                response = await call_next(request)
            status = response.status_code
        except Exception as exc:
            request.state.detail = f"server error: {type(exc).__name__}"
            response = JSONResponse({"detail": "internal error (logged)"}, status_code=500)
            status = 500
        p: Principal | None = getattr(request.state, "principal", None)
        route = request.scope.get("route")
        entry = audit.Entry(
            username=p.username if p else getattr(request.state, "attempted_user", ""),
            agency_id=p.agency_id if p else "",
            client=request.client.host if request.client else "",
            method=request.method,
            path=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
            action=getattr(route, "name", "") or "unknown",
            outcome="ok" if status < 400 else "error" if status >= 500 else "refused",
            status=status,
            records=int(getattr(request.state, "records", 0)),
            detail=str(getattr(request.state, "detail", ""))[:1000],
        )
        await _log(pool, entry)
        return response

    # -- identity ------------------------------------------------------------------------------

    @app.post("/api/token", response_model=Token, tags=["identity"], responses=_ERRORS)
    def sign_in(
        request: Request,
        ws: WS,
        username: Annotated[str, Form(max_length=64, pattern=NO_NUL, examples=["a.vale"])],
        password: Annotated[
            str, Form(max_length=1024, pattern=NO_NUL, examples=["correct horse battery"])
        ],
        otp: Annotated[str | None, Form(max_length=12, pattern=NO_NUL, examples=["492039"])] = None,
    ) -> Token:
        """Sign in (OAuth2 password flow): a session token that expires."""
        request.state.attempted_user = username
        p = auth.authenticate(ws, username, password, otp)
        request.state.principal = p
        token, ttl = auth.issue_token(ws, p, secret, config.session_minutes)
        return Token(access_token=token, token_type="bearer", expires_in=ttl)

    @app.post("/api/sign-out", status_code=204, tags=["identity"], responses=_ERRORS)
    def sign_out(
        p: Caller,
        ws: WS,
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Response:
        """End the caller's session: its token is refused from now on."""
        if p.via != "password" or creds is None:
            raise Refusal("an API token is revoked, not signed out (DELETE /api/api-tokens/ID)")
        auth.end_session(ws, creds.credentials, secret)
        return Response(status_code=204)

    @app.get("/api/me", response_model=Me, tags=["identity"], responses=_ERRORS)
    def me(p: Caller) -> Me:
        """Who the token belongs to."""
        return Me(username=p.username, agency_id=p.agency_id, role=p.role)

    @app.post("/api/api-tokens", response_model=ApiToken, tags=["identity"], responses=_ERRORS)
    def new_api_token(body: ApiTokenRequest, p: Caller, ws: WS) -> ApiToken:
        """A long-lived token for scripts, shown once."""
        if p.via != "password":
            raise policy.Forbidden("an API token cannot make API tokens; sign in")
        token_id, token, expires = auth.create_api_token(ws, p, body.name, body.days)
        return ApiToken(token_id=token_id, token=token, expires_at=expires)

    @app.delete("/api/api-tokens/{token_id}", status_code=204, tags=["identity"], responses=_ERRORS)
    def drop_api_token(token_id: str, p: Caller, ws: WS) -> Response:
        """Revoke one of the caller's API tokens."""
        if not auth.revoke_api_token(ws, p, token_id):
            raise policy.NotFound(f"no API token {token_id!r}")
        return Response(status_code=204)

    # -- case data, through the policy ---------------------------------------------------------

    Limit = Annotated[int, Query(ge=1, le=policy.MAX_LIMIT)]
    Offset = Annotated[int, Query(ge=0, le=10_000_000)]

    @app.get(
        "/api/investigations",
        tags=["cases"],
        responses=_examples(
            [{"investigation_id": "INV-1", "agency_id": "DEA", "case_number": "RM-22-0001"}]
        ),
    )
    def investigations(
        request: Request, p: Caller, ws: WS, limit: Limit = 100, offset: Offset = 0
    ) -> list[dict[str, Any]]:
        """The investigations the caller may see."""
        rows = policy.list_investigations(ws, p, limit, offset)
        counted(request, len(rows))
        return rows

    @app.get(
        "/api/investigations/{investigation_id}",
        tags=["cases"],
        responses={
            **_examples({"investigation_id": "INV-1", "records": {"subjects": []}}),
            404: {"model": Message, "description": "Missing or not visible (the same answer)."},
        },
    )
    def investigation(
        request: Request, investigation_id: str, p: Caller, ws: WS, limit: Limit = 200
    ) -> dict[str, Any]:
        """One investigation with its records; 404 for what the caller may not see."""
        out = policy.get_investigation(ws, p, investigation_id, limit)
        counted(request, 1 + sum(len(v) for v in out["records"].values()))
        return out

    @app.get("/api/investigations/{investigation_id}/shares", tags=["sharing"], responses=_ERRORS)
    def shares(investigation_id: str, p: Caller, ws: WS) -> list[dict[str, Any]]:
        """The live shares of an investigation (its agency's supervisors)."""
        return policy.list_shares(ws, p, investigation_id)

    @app.post(
        "/api/investigations/{investigation_id}/shares",
        status_code=201,
        tags=["sharing"],
        responses=_ERRORS,
    )
    def share(
        request: Request, investigation_id: str, body: ShareRequest, p: Caller, ws: WS
    ) -> dict[str, Any]:
        """Share an investigation with another agency or one named user (a supervisor)."""
        out = policy.share_investigation(ws, p, investigation_id, body.agency_id, body.username)
        request.state.detail = json.dumps(out, default=str)
        return out

    @app.delete(
        "/api/investigations/{investigation_id}/shares/{share_id}",
        status_code=204,
        tags=["sharing"],
        responses=_ERRORS,
    )
    def unshare(investigation_id: str, share_id: str, p: Caller, ws: WS) -> Response:
        """Take a share back."""
        policy.revoke_share(ws, p, investigation_id, share_id)
        return Response(status_code=204)

    @app.get(
        "/api/entities",
        tags=["cases"],
        responses=_examples([{"entity_id": "E-1", "kind": "person", "name": "Ana Fictional"}]),
    )
    def entities(
        request: Request,
        p: Caller,
        ws: WS,
        kind: Annotated[str | None, Query(pattern="^(person|organization|selector)$")] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[dict[str, Any]]:
        """Entities with at least one record the caller may see."""
        rows = policy.list_entities(ws, p, kind, limit, offset)
        counted(request, len(rows))
        return rows

    @app.get(
        "/api/entities/{entity_id}",
        tags=["cases"],
        responses={
            **_examples({"entity_id": "E-1", "names": ["Ana Fictional"], "selectors": []}),
            404: {"model": Message, "description": "Missing or not visible (the same answer)."},
        },
    )
    def entity(request: Request, entity_id: str, p: Caller, ws: WS) -> dict[str, Any]:
        """One entity: only the caller's visible records, names and selectors."""
        out = policy.get_entity(ws, p, entity_id)
        counted(request, len(out["records"]))
        return out

    @app.get(
        "/api/search",
        tags=["cases"],
        responses=_examples(
            [{"record_type": "subjects", "record_id": "S-1", "field": "full_name"}]
        ),
    )
    def search(
        request: Request,
        p: Caller,
        ws: WS,
        q: Annotated[str, Query(min_length=1, max_length=200, examples=["O'Brien"])],
        limit: Limit = 50,
    ) -> list[dict[str, Any]]:
        """Names, aliases, selectors, identifiers and case numbers (visible records only)."""
        request.state.detail = json.dumps({"q": q})
        rows = policy.search(ws, p, q, limit)
        counted(request, len(rows))
        return rows

    @app.get(
        "/api/conflicts",
        tags=["deconfliction"],
        responses=_examples(
            {
                "targets": [
                    {
                        "kind": "target",
                        "entity_id": "E-1",
                        "your_records": [],
                        "other_agency": {"agency_id": "CPD", "poc_name": "Det. Robin Park"},
                    }
                ],
                "operations": [],
            }
        ),
    )
    def conflicts(request: Request, p: Caller, ws: WS) -> dict[str, Any]:
        """Overlaps with other agencies: targets (entities) and planned operations, each with
        the other agency's point of contact only."""
        targets = policy.target_conflicts(ws, p)
        ops = deconflict.conflicts_of(ws, p.agency_id) if p.role in policy.CASE_ROLES else []
        counted(request, len(targets) + len(ops))
        return {"targets": targets, "operations": ops}

    @app.get(
        "/api/deconflict",
        tags=["deconfliction"],
        responses=_examples(
            {"selector": "phone:+13035550187", "your_records": [], "conflicts": []}
        ),
    )
    def deconflict_target(
        request: Request,
        p: Caller,
        ws: WS,
        selector: Annotated[str, Query(min_length=1, max_length=200, examples=["(303) 555-0187"])],
        kind: Annotated[str | None, Query(max_length=20, examples=["phone"])] = None,
    ) -> dict[str, Any]:
        """Target deconfliction of one selector: who else works it (contact only)."""
        request.state.detail = json.dumps({"selector": selector})
        out = policy.deconflict_selector(ws, p, selector, kind)
        counted(request, len(out["your_records"]))
        return out

    # -- judgements (resolve/judge.py; they apply to everyone at the next resolve) -------------

    @app.post(
        "/api/judgements",
        status_code=201,
        tags=["resolution"],
        responses={
            **_examples({"judgement_id": "0b6f...", "verdict": "same"}),
            404: {"model": Message, "description": "A record missing or not visible."},
        },
    )
    def judge(request: Request, body: JudgementRequest, p: Caller, ws: WS) -> dict[str, Any]:
        """Confirm (same) or reject (different) that two subject records are one person; both
        must be visible to the caller."""
        from lastmile.resolve.errors import ResolveError
        from lastmile.resolve.judge import judge_pair

        policy.check_judgeable(ws, p, [body.record_a, body.record_b])
        try:
            jid = judge_pair(
                ws, body.verdict, body.record_a, body.record_b, analyst=p.username, note=body.note
            )
        except ResolveError as exc:
            raise Refusal(str(exc)) from None
        out = {
            "judgement_id": jid,
            "verdict": body.verdict,
            "records": [body.record_a, body.record_b],
        }
        request.state.detail = json.dumps(out)
        counted(request, 2)
        return out

    @app.get(
        "/api/possible-matches",
        tags=["resolution"],
        responses=_examples(
            [
                {
                    "entity_a": "P-1",
                    "record_a": "S-2",
                    "name_a": "Ana Fictional",
                    "entity_b": "P-4",
                    "record_b": "S-9",
                    "name_b": "FICTIONAL, Ana",
                    "probability": 0.42,
                    "why": "below the threshold (0.5)",
                    "evidence": "name: the same full name (+11.0)",
                }
            ]
        ),
    )
    def possible_matches(
        request: Request,
        p: Caller,
        ws: WS,
        entity_id: Annotated[str | None, Query(max_length=100)] = None,
        min_probability: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        """Pairs of people the latest resolution left apart, most likely first, for a
        judgement (lastmile review): only pairs whose two records the caller may see."""
        rows = policy.possible_matches(ws, p, entity_id, min_probability, limit)
        counted(request, len(rows))
        return rows

    @app.post(
        "/api/entities/{entity_id}/split",
        status_code=201,
        tags=["resolution"],
        responses={
            **_examples({"entity_id": "E-1", "split": ["S-3"]}),
            404: {"model": Message, "description": "Missing or not visible (the same answer)."},
        },
    )
    def split(
        request: Request, entity_id: str, body: SplitRequest, p: Caller, ws: WS
    ) -> dict[str, Any]:
        """Separate the named subject records (visible to the caller) from the rest of their
        entity."""
        from lastmile.resolve.errors import ResolveError
        from lastmile.resolve.judge import split_entity

        policy.check_entity_judgeable(ws, p, entity_id, body.records)
        try:
            split_entity(ws, entity_id, body.records, analyst=p.username, note=body.note)
        except ResolveError as exc:
            raise Refusal(str(exc)) from None
        # Not the number of pairs judged: it would count the records hidden from the caller.
        out = {"entity_id": entity_id, "split": body.records}
        request.state.detail = json.dumps(out)
        counted(request, len(body.records))
        return out

    # -- networks, key players, attribution (through the policy) -------------------------------

    _NOT_VISIBLE: dict[int | str, dict[str, Any]] = {
        404: {"model": Message, "description": "Missing or not visible (the same answer)."}
    }
    _NOTICE = {"kind": "network", "network_id": "N-0001", "other_agency": {"agency_id": "CPD"}}

    @app.get(
        "/api/networks",
        tags=["networks"],
        responses=_examples(
            [{"network_id": "N-0001", "people": 12, "complete": False, "conflicts": [_NOTICE]}]
        ),
    )
    def networks(
        request: Request, p: Caller, ws: WS, limit: Limit = 100, offset: Offset = 0
    ) -> list[dict[str, Any]]:
        """Distribution networks with at least one entity the caller may see, counted from what
        the caller sees; hidden parts show only as conflict notices."""
        rows = policy.list_networks(ws, p, limit, offset)
        counted(request, len(rows))
        return rows

    @app.get(
        "/api/networks/{network_id}",
        tags=["networks"],
        responses={
            **_examples({"network_id": "N-0001", "members": [], "ties": [], "conflicts": []}),
            **_NOT_VISIBLE,
        },
    )
    def network(request: Request, network_id: str, p: Caller, ws: WS) -> dict[str, Any]:
        """One network: visible members with their community, the ties between them (visible
        records only), and a conflict notice for each agency holding a hidden part."""
        out = policy.get_network(ws, p, network_id)
        counted(request, len(out["members"]) + len(out["ties"]))
        return out

    @app.get(
        "/api/networks/{network_id}/key-players",
        tags=["networks"],
        responses={
            **_examples(
                {
                    "network_id": "N-0001",
                    "key_players": [{"rank": 1, "entity_id": "E-1", "score": 0.41}],
                }
            ),
            **_NOT_VISIBLE,
        },
    )
    def network_key_players(request: Request, network_id: str, p: Caller, ws: WS) -> dict[str, Any]:
        """Key players the caller may see, ranked among themselves, with their scores."""
        out = policy.key_players(ws, p, network_id)
        counted(request, len(out["key_players"]))
        return out

    @app.get(
        "/api/networks/{network_id}/attribution",
        tags=["networks"],
        responses={
            **_examples(
                {
                    "network_id": "N-0001",
                    "cartel": "Sinaloa",
                    "score": 0.82,
                    "path": [{"step": "entity", "entity_id": "E-1"}, {"step": "hidden"}],
                }
            ),
            **_NOT_VISIBLE,
        },
    )
    def network_attribution(request: Request, network_id: str, p: Caller, ws: WS) -> dict[str, Any]:
        """The cartel that supplies the network, with the evidence path through visible steps
        only (hidden steps become one notice)."""
        out = policy.attribution(ws, p, network_id)
        counted(request, len([s for s in out["path"] if s["step"] != "hidden"]))
        return out

    # -- report (aggregates: every signed-in user) ---------------------------------------------

    @app.get(
        "/api/report",
        tags=["report"],
        responses={
            200: {
                "content": {
                    "application/json": {"example": {"investigations": 1436, "arrests": 3337}},
                    "text/html": {"example": "<!doctype html>..."},
                }
            },
            **_ERRORS,
        },
    )
    def report(
        p: Caller,
        ws: WS,
        format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
        date_from: Annotated[date | None, Query(alias="from")] = None,
        date_to: Annotated[date | None, Query(alias="to")] = None,
        division: Annotated[str | None, Query(max_length=100)] = None,
    ) -> Response:
        """The operation report: totals and breakdowns (aggregates only)."""
        from lastmile.report import ReportError, ReportOptions, compute_report, render_report

        try:
            options = ReportOptions(date_from=date_from, date_to=date_to, division=division)
            data = compute_report(ws, options)
        except ReportError as exc:
            raise Refusal(str(exc)) from None
        if format == "html":
            return HTMLResponse(render_report(data, "html"))
        return Response(render_report(data, "json"), media_type="application/json")

    # -- exports -------------------------------------------------------------------------------

    @app.get(
        "/api/exports/{name:path}",
        tags=["exports"],
        responses={
            200: {"content": {"text/csv": {"example": "subject_id,investigation_id\nS-1,INV-1\n"}}},
            **_ERRORS,
        },
    )
    def export(request: Request, name: str, p: Caller, ws: WS) -> Response:
        """Visible records of one type as CSV: /api/exports/subjects.csv."""
        stem = name[:-4] if name.endswith(".csv") else name
        if not re.fullmatch(r"[a-z_]{1,40}", stem) or stem not in policy.EXPORTS:
            raise Refusal(
                f"export name {name[:100]!r}: expected one of "
                f"{', '.join(e + '.csv' for e in policy.EXPORTS)}"
            )
        table = policy.export_table(ws, p, stem)
        counted(request, table.num_rows)
        return Response(
            csvsafe.write_csv(table) or "",
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'},
        )

    # -- upload and ingest ---------------------------------------------------------------------

    @app.post(
        "/api/uploads/{filename}",
        tags=["ingest"],
        dependencies=[Depends(bearer)],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "text/csv": {
                        "schema": {"type": "string", "format": "binary"},
                        "example": "subject_id,investigation_id,full_name\nS-9,INV-1,Ana\n",
                    }
                },
            }
        },
        responses={
            **_examples({"batch_id": "b-...", "loaded": 1, "rejected": 0}),
            413: {"model": Message, "description": "Larger than the configured limit."},
            422: {"model": Message, "description": "A file that cannot be read."},
        },
    )
    async def upload(
        request: Request,
        filename: str,
        mapping: Annotated[str | None, Query(max_length=100, examples=["carrier_cdr"])] = None,
        investigation: Annotated[str | None, Query(max_length=100)] = None,
        supersedes: Annotated[
            str | None,
            Query(
                max_length=100,
                pattern=NO_NUL,
                description="A batch of the caller's agency this upload corrects.",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Stream one file to disk (up to the configured size), then ingest it as one batch.
        Without ``mapping`` the name is an interchange file name (subjects.csv...)."""
        p = await run_in_threadpool(_caller_of, pool, request, secret, config.idle_minutes)
        policy.require_case_role(p, policy.UPLOAD_ROLES, "an upload")
        if not _SAFE_NAME.fullmatch(filename) or ".." in filename:
            raise Refusal(f"file name {filename[:100]!r}: letters, digits, '.', '_', '-' only")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > config.max_upload_bytes:
            raise Refusal(
                f"the upload ({int(declared):,} bytes) is larger than the limit "
                f"({config.max_upload_bytes:,} bytes)",
                413,
            )
        folder = upload_root / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / filename
        size = 0
        with target.open("wb") as fh:
            async for chunk in request.stream():
                size += len(chunk)
                if size > config.max_upload_bytes:
                    fh.close()
                    target.unlink(missing_ok=True)
                    raise Refusal(
                        f"the upload is larger than the limit ({config.max_upload_bytes:,} bytes)",
                        413,
                    )
                fh.write(chunk)
        request.state.detail = json.dumps({"file": filename, "bytes": size})
        result = await run_in_threadpool(
            _ingest, pool, p, target, folder, mapping, investigation, supersedes
        )
        request.state.records = int(result.get("loaded", 0))
        return result

    # -- planned operations (event deconfliction) ----------------------------------------------

    @app.post(
        "/api/operations",
        status_code=201,
        tags=["deconfliction"],
        responses={
            **_examples({"operation_id": "9f1c...", "conflicts": []}),
            422: {"model": Message, "description": "Outside the Earth, or end before start."},
        },
    )
    def submit_operation(
        request: Request, body: OperationRequest, p: Caller, ws: WS
    ) -> dict[str, Any]:
        """Submit a planned operation; conflicts are told to both sides at once."""
        policy.require_case_role(p, policy.CASE_ROLES, "a planned operation")
        op = deconflict.PlannedOperation(
            agency_id=p.agency_id,
            division=body.division,
            submitted_by=p.username,
            kind=body.kind.value,
            latitude=body.latitude,
            longitude=body.longitude,
            address=body.address,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
        )
        out = deconflict.submit(ws, op, config.conflict_distance_m)
        counted(request, len(out["conflicts"]))
        return out

    @app.get("/api/operations", tags=["deconfliction"], responses=_examples([]))
    def operations(request: Request, p: Caller, ws: WS) -> list[dict[str, Any]]:
        """The caller's agency's planned operations."""
        policy.require_case_role(p, policy.CASE_ROLES, "planned operations")
        rows = deconflict.operations_of(ws, p.agency_id)
        counted(request, len(rows))
        return rows

    @app.get("/api/operations/conflicts", tags=["deconfliction"], responses=_examples([]))
    def operation_conflicts(
        request: Request, p: Caller, ws: WS, since: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Poll: conflicts of the caller's agency's operations (detected after ``since``)."""
        policy.require_case_role(p, policy.CASE_ROLES, "planned operations")
        rows = deconflict.conflicts_of(ws, p.agency_id, since=since)
        counted(request, len(rows))
        return rows

    @app.get(
        "/api/operations/events",
        tags=["deconfliction"],
        dependencies=[Depends(bearer)],
        responses={200: {"content": {"text/event-stream": {"example": "event: conflict\n"}}}},
    )
    async def operation_events(
        request: Request,
        since: datetime | None = None,
        seconds: Annotated[float, Query(gt=0, le=3600)] = 300,
    ) -> StreamingResponse:
        """Server-sent events: each new conflict of the caller's agency, as it is detected;
        the stream ends after ``seconds`` (reconnect with ``since``)."""
        p = await run_in_threadpool(_caller_of, pool, request, secret, config.idle_minutes)
        policy.require_case_role(p, policy.CASE_ROLES, "planned operations")

        async def events() -> AsyncIterator[str]:
            last = since
            waited = 0.0
            yield ": lastmile conflicts\n\n"
            while waited < seconds:
                found = await run_in_threadpool(_conflicts_since, pool, p.agency_id, last)
                for c in found:
                    yield f"event: conflict\nid: {c['conflict_id']}\ndata: {json.dumps(c)}\n\n"
                    last = datetime.fromisoformat(c["detected_at"])
                step = min(config.event_poll_seconds, seconds - waited)
                await asyncio.sleep(step)
                waited += step

        return StreamingResponse(events(), media_type="text/event-stream")

    # -- audit (auditors) ----------------------------------------------------------------------

    def _auditor(p: Principal) -> None:
        if p.role != "auditor":
            raise policy.Forbidden("the audit trail is for auditors")

    @app.get("/api/audit", tags=["audit"], responses=_examples([{"seq": 1, "action": "search"}]))
    def audit_search(
        request: Request,
        p: Caller,
        ws: WS,
        username: Annotated[str | None, Query(max_length=64)] = None,
        agency_id: Annotated[str | None, Query(max_length=100)] = None,
        action: Annotated[str | None, Query(max_length=100)] = None,
        outcome: Annotated[str | None, Query(pattern="^(ok|refused|error)$")] = None,
        since: datetime | None = None,
        until: datetime | None = None,
        contains: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
        offset: Offset = 0,
    ) -> list[dict[str, Any]]:
        """Search the audit trail (auditors)."""
        _auditor(p)
        rows = audit.search(
            ws,
            username=username,
            agency_id=agency_id,
            action=action,
            outcome=outcome,
            since=since,
            until=until,
            contains=contains,
            limit=limit,
            offset=offset,
        )
        counted(request, len(rows))
        return rows

    @app.get(
        "/api/audit/export",
        tags=["audit"],
        responses={200: {"content": {"text/csv": {"example": "seq,at,username\n"}}}, **_ERRORS},
    )
    def audit_export(request: Request, p: Caller, ws: WS) -> PlainTextResponse:
        """The whole audit trail as CSV (auditors)."""
        _auditor(p)
        rows = audit.search(ws, limit=100_000)
        counted(request, len(rows))
        return PlainTextResponse(audit.to_csv(rows), media_type="text/csv")

    @app.get("/api/audit/verify", tags=["audit"], responses=_examples({"ok": True, "entries": 9}))
    def audit_verify(p: Caller, ws: WS) -> dict[str, Any]:
        """Check the hash chain (auditors)."""
        _auditor(p)
        v = audit.verify(ws)
        return {"ok": v.ok, "entries": v.entries, "first_bad": v.first_bad, "reason": v.reason}

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


# -- helpers run on the request threads --------------------------------------------------------


async def _log(pool: WorkspacePool, entry: audit.Entry) -> None:
    """Write the entry (group commit, audit.Writer); the response waits until it is stored."""
    loop = asyncio.get_running_loop()
    stored: asyncio.Future[None] = loop.create_future()

    def settle(exc: BaseException | None) -> None:
        if not stored.done():
            if exc is None:
                stored.set_result(None)
            else:
                stored.set_exception(exc)

    def done(exc: BaseException | None) -> None:
        loop.call_soon_threadsafe(settle, exc)

    pool.audit.submit(entry, done)
    await stored


def _caller_of(
    pool: WorkspacePool, request: Request, secret: str, idle_minutes: float | None = None
) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("sign in first: no bearer token")
    with pool.acquire() as ws:
        p = auth.principal_from_token(ws, token.strip(), secret, idle_minutes)
    request.state.principal = p
    return p


def _conflicts_since(
    pool: WorkspacePool, agency_id: str, since: datetime | None
) -> list[dict[str, Any]]:
    with pool.acquire() as ws:
        return deconflict.conflicts_of(ws, agency_id, since=since)


def _ingest(
    pool: WorkspacePool,
    p: Principal,
    target: Path,
    folder: Path,
    mapping: str | None,
    investigation: str | None,
    supersedes: str | None = None,
) -> dict[str, Any]:
    from lastmile.ingest import IngestError, ingest_paths
    from lastmile.ingest.files import record_type_for
    from lastmile.ingest.mapping import MappingError, load_mapping

    try:
        chosen = load_mapping(mapping) if mapping else None
    except (MappingError, OSError, ValueError) as exc:
        raise Refusal(f"mapping {mapping!r}: {exc}") from None
    if chosen is None and record_type_for(target) is None:
        raise Refusal(f"{target.name} is not an interchange file name (subjects.csv...)")
    params = {"investigation": investigation} if investigation else {}
    with pool.acquire() as ws:
        if investigation:
            policy.check_upload(ws, p, {investigation}, set())
        else:
            policy.check_upload(ws, p, *_upload_scope(ws, target))
        if supersedes:
            policy.check_supersedes(ws, p, supersedes)
        try:
            result = ingest_paths(
                ws,
                [target],
                mapping=chosen,
                params=params,
                rejects=folder / "rejects.csv",
                supersedes=supersedes,
            )
        except IngestError as exc:
            raise Refusal(str(exc), 422) from None
    out = result.as_dict()
    out["first_rejects"] = [r.line() for r in result.first_rejects]
    return out


def _upload_scope(ws: Workspace, path: Path) -> tuple[set[str], set[str]]:
    """The investigations and agencies an interchange file names, read by DuckDB."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        cols = [
            r[0]
            for r in con.execute(
                "DESCRIBE SELECT * FROM read_csv(?, all_varchar = true, header = true)",
                [str(path)],
            ).fetchall()
        ]
        invs: set[str] = set()
        agencies: set[str] = set()
        if "investigation_id" in cols:
            invs = {
                str(r[0]).strip()
                for r in con.execute(
                    "SELECT DISTINCT investigation_id FROM read_csv(?, all_varchar = true, "
                    "header = true) WHERE investigation_id IS NOT NULL",
                    [str(path)],
                ).fetchall()
            }
        if path.name == "investigations.csv" and "agency_id" in cols:
            agencies = {
                str(r[0]).strip()
                for r in con.execute(
                    "SELECT DISTINCT agency_id FROM read_csv(?, all_varchar = true, header = true) "
                    "WHERE agency_id IS NOT NULL",
                    [str(path)],
                ).fetchall()
            }
            invs = set()  # new investigations of the uploader's own agency are allowed
        if path.name == "agencies.csv":
            raise policy.Forbidden("agencies are loaded by an administrator (lastmile ingest)")
        return invs, agencies
    except duckdb.Error as exc:
        raise Refusal(
            f"{path.name}: not a readable CSV file: {str(exc).splitlines()[0]}", 422
        ) from None
    finally:
        con.close()


def _default_upload_dir(spec: str) -> Path:
    if spec.startswith(("postgresql://", "postgres://")):
        import tempfile

        return Path(tempfile.gettempdir()) / "lastmile-uploads"
    return Path(spec).with_name(Path(spec).name + ".uploads")


def app_from_env() -> FastAPI:
    """The app as ``lastmile serve`` configures it, through the environment (each uvicorn
    worker process calls this factory)."""
    import os

    from lastmile.store import resolve_workspace

    upload = os.environ.get("LASTMILE_UPLOAD_DIR")
    return create_app(
        ServerConfig(
            workspace=resolve_workspace(None),
            upload_dir=Path(upload) if upload else None,
            max_upload_bytes=int(os.environ.get("LASTMILE_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD)),
            session_minutes=int(os.environ.get("LASTMILE_SESSION_MINUTES", "480")),
            idle_minutes=float(os.environ.get("LASTMILE_IDLE_MINUTES", "15")),
            conflict_distance_m=float(
                os.environ.get("LASTMILE_CONFLICT_M", deconflict.DEFAULT_DISTANCE_M)
            ),
        )
    )
