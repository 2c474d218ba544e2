"""The server's verbs: ``lastmile serve``, ``lastmile user ...``, ``lastmile agency ...`` and
``lastmile audit ...`` (docs/deploy.md). Account commands run on the server's machine against
the workspace directly: that is how the first admin is made."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lastmile.cli import CommandError, DebugOpt, OutOpt, WorkspaceOpt, _emit, app, friendly

if TYPE_CHECKING:
    from lastmile.store import Workspace

user_app = typer.Typer(help="Accounts of the server: add, disable, list, reset, totp.")
agency_app = typer.Typer(help="Agencies' access to the server.")
audit_app = typer.Typer(help="The audit trail: verify the chain, search, export.")
app.add_typer(user_app, name="user")
app.add_typer(agency_app, name="agency")
app.add_typer(audit_app, name="audit")


class RoleChoice(StrEnum):
    analyst = "analyst"
    supervisor = "supervisor"
    auditor = "auditor"
    admin = "admin"


@contextmanager
def _workspace(spec: str | None) -> Iterator[Workspace]:
    """The workspace, with the server's refusals as one-line command errors."""
    try:
        from lastmile.server.auth import Refusal
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise CommandError(
            f"the server needs its extra: pip install 'lastmile[server]' ({exc})"
        ) from None
    from lastmile.store import open_workspace

    with open_workspace(spec) as ws:
        try:
            yield ws
        except Refusal as exc:
            raise CommandError(str(exc)) from None


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    first = typer.prompt("password", hide_input=True)
    if typer.prompt("again", hide_input=True) != first:
        raise CommandError("the two passwords differ")
    return str(first)


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
]


@user_app.command("add")
@friendly
def user_add(
    username: Annotated[str, typer.Argument(help="The new account's name.")],
    agency: Annotated[str, typer.Option("--agency", help="The user's agency id.")],
    role: Annotated[RoleChoice, typer.Option("--role")] = RoleChoice.analyst,
    password_stdin: PasswordStdin = False,
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Create an account (an admin also gets a second factor: scan the URI printed)."""
    from lastmile.server import auth

    password = _read_password(password_stdin)
    with _workspace(workspace) as ws:
        auth.add_user(ws, username, agency, role.value, password)
        print(f"added {username} ({role.value}, {agency})")
        if role is RoleChoice.admin:
            uri = auth.enrol_totp(ws, username)
            print(f"second factor (required for admins): {uri}")


@user_app.command("disable")
@friendly
def user_disable(
    username: str,
    enable: Annotated[bool, typer.Option("--enable", help="Enable again.")] = False,
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Disable an account: its sign-in and its live tokens stop at once."""
    from lastmile.server import auth

    with _workspace(workspace) as ws:
        auth.set_user_disabled(ws, username, not enable)
    print(f"{username} {'enabled' if enable else 'disabled'}")


@user_app.command("list")
@friendly
def user_list(workspace: WorkspaceOpt = None, out: OutOpt = None, debug: DebugOpt = False) -> None:
    """Every account, as JSON."""
    from lastmile.server import auth

    with _workspace(workspace) as ws:
        users = auth.list_users(ws)
    _emit(json.dumps(users, indent=2, default=str) + "\n", out)


@user_app.command("reset")
@friendly
def user_reset(
    username: str,
    password_stdin: PasswordStdin = False,
    unlock_only: Annotated[
        bool, typer.Option("--unlock-only", help="Clear the lockout, keep the password.")
    ] = False,
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Unlock an account and set a new password."""
    from lastmile.server import auth

    password = None if unlock_only else _read_password(password_stdin)
    with _workspace(workspace) as ws:
        auth.reset_user(ws, username, password)
    print(f"{username} reset")


@user_app.command("totp")
@friendly
def user_totp(username: str, workspace: WorkspaceOpt = None, debug: DebugOpt = False) -> None:
    """Give an account a new second factor; prints the otpauth:// enrolment URI."""
    from lastmile.server import auth

    with _workspace(workspace) as ws:
        print(auth.enrol_totp(ws, username))


@agency_app.command("disable")
@friendly
def agency_disable(
    agency_id: str,
    enable: Annotated[bool, typer.Option("--enable", help="Enable again.")] = False,
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Disable an agency: its users cannot sign in and its shares stop."""
    from lastmile.server import auth

    with _workspace(workspace) as ws:
        auth.set_agency_disabled(ws, agency_id, not enable, by="lastmile agency disable")
    print(f"agency {agency_id} {'enabled' if enable else 'disabled'}")


@audit_app.command("verify")
@friendly
def audit_verify(workspace: WorkspaceOpt = None, debug: DebugOpt = False) -> None:
    """Check the audit trail's hash chain; exit 1 when it was altered."""
    from lastmile.server import audit

    with _workspace(workspace) as ws:
        verdict = audit.verify(ws)
    if not verdict.ok:
        raise CommandError(f"the audit trail is broken: {verdict.reason}")
    print(f"audit trail intact: {verdict.entries:,} entries")


class AuditFormat(StrEnum):
    json = "json"
    csv = "csv"


@audit_app.command("search")
@friendly
def audit_search(
    username: Annotated[str | None, typer.Option("--user")] = None,
    agency: Annotated[str | None, typer.Option("--agency")] = None,
    action: Annotated[str | None, typer.Option("--action")] = None,
    outcome: Annotated[str | None, typer.Option("--outcome", help="ok, refused or error")] = None,
    contains: Annotated[str | None, typer.Option("--contains")] = None,
    limit: Annotated[int, typer.Option()] = 1000,
    format: Annotated[AuditFormat, typer.Option("--format", "-f")] = AuditFormat.json,
    workspace: WorkspaceOpt = None,
    out: OutOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Entries of the audit trail matching every filter given (export: --format csv)."""
    from lastmile.server import audit

    with _workspace(workspace) as ws:
        rows = audit.search(
            ws,
            username=username,
            agency_id=agency,
            action=action,
            outcome=outcome,
            contains=contains,
            limit=limit,
        )
    text = audit.to_csv(rows) if format is AuditFormat.csv else json.dumps(rows, indent=2) + "\n"
    _emit(text, out)


@audit_app.command("export")
@friendly
def audit_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="CSV file to write.")],
    workspace: WorkspaceOpt = None,
    debug: DebugOpt = False,
) -> None:
    """The whole audit trail as CSV."""
    from lastmile.server import audit

    with _workspace(workspace) as ws:
        rows = audit.search(ws, limit=100_000_000)
    _emit(audit.to_csv(rows), out)


@app.command()
@friendly
def serve(
    workspace: WorkspaceOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
    max_upload_mb: Annotated[int, typer.Option(help="Largest upload accepted.")] = 256,
    session_minutes: Annotated[
        int, typer.Option(help="Absolute session limit: a token expires after this.")
    ] = 480,
    idle_minutes: Annotated[
        float, typer.Option(help="Session lock: refused after this long without a request.")
    ] = 15,
    conflict_km: Annotated[
        float, typer.Option(help="Distance under which planned operations conflict.")
    ] = 1.0,
    upload_dir: Annotated[Path | None, typer.Option(help="Where uploads are kept.")] = None,
    debug: DebugOpt = False,
) -> None:
    """Serve the API (and /openapi.json) over a workspace with uvicorn."""
    import os

    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise CommandError(
            f"the server needs its extra: pip install 'lastmile[server]' ({exc})"
        ) from None
    from lastmile.store import resolve_workspace

    spec = resolve_workspace(workspace)
    if workers > 1 and not spec.startswith(("postgresql://", "postgres://")):
        raise CommandError("several workers need a PostgreSQL workspace (a DuckDB file has one)")
    # The workers build the app from the environment (uvicorn imports a factory by name).
    os.environ.update(
        {
            "LASTMILE_WORKSPACE": spec,
            "LASTMILE_MAX_UPLOAD_BYTES": str(max_upload_mb * 1024 * 1024),
            "LASTMILE_SESSION_MINUTES": str(session_minutes),
            "LASTMILE_IDLE_MINUTES": str(idle_minutes),
            "LASTMILE_CONFLICT_M": str(conflict_km * 1000),
        }
    )
    if upload_dir:
        os.environ["LASTMILE_UPLOAD_DIR"] = str(upload_dir)
    uvicorn.run(
        "lastmile.server.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=True,
    )
