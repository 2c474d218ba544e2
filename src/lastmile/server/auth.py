"""Identity: accounts, passwords (argon2id), the second factor (TOTP, RFC 6238), lockout,
signed session tokens (JWT, HS256) and API tokens for scripts.

The rules follow the CJIS Security Policy's floor: one account per person, multi-factor
sign-in for administrators (optional for the others), lockout after ``MAX_FAILED`` failed
sign-ins in a row, sessions that lock after ``idle_minutes`` without a request and end after
``session_minutes`` in all, and no sign-in for a
disabled account or a user of a disabled agency. Every request re-reads the account, so a
disabled user's or agency's live tokens stop working at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from lastmile.store import Workspace
from lastmile.times import utcnow

ROLES = ("analyst", "supervisor", "auditor", "admin")
MAX_FAILED = 5
MIN_PASSWORD = 12
SECRET_ENV = "LASTMILE_SERVER_SECRET"
API_TOKEN_PREFIX = "lm_"
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_hasher = PasswordHasher()
# Verified against when the account does not exist, so that a wrong name costs as long as a
# wrong password and timing does not tell which names exist.
_DUMMY_HASH = _hasher.hash("lastmile-no-such-user")


class Refusal(Exception):
    """A refused request; ``status`` is the HTTP status, the message is shown to the caller."""

    default_status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status or self.default_status


class AuthError(Refusal):
    """A refused sign-in or token."""

    default_status = 401


@dataclass(frozen=True)
class Principal:
    """Who is calling: the account as stored now (never as the token remembers it)."""

    username: str
    agency_id: str
    role: str
    via: str = "password"  # or "api_token"


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"a password needs at least {MIN_PASSWORD} characters", 400)


def _user_row(ws: Workspace, username: str) -> dict[str, Any] | None:
    cols = (
        "username",
        "agency_id",
        "role",
        "password_hash",
        "totp_secret",
        "disabled",
        "failed_attempts",
        "locked_at",
    )
    rows = ws.store.rows(f"SELECT {', '.join(cols)} FROM users WHERE username = ?", (username,))
    return dict(zip(cols, rows[0], strict=True)) if rows else None


def _require_user(ws: Workspace, username: str) -> dict[str, Any]:
    row = _user_row(ws, username)
    if row is None:
        raise AuthError(f"no user {username!r}", 404)
    return row


def agency_known(ws: Workspace, agency_id: str) -> bool:
    return bool(ws.store.rows("SELECT 1 FROM agencies WHERE agency_id = ?", (agency_id,)))


def add_user(ws: Workspace, username: str, agency_id: str, role: str, password: str) -> None:
    """Create an account. Analysts and supervisors need an agency the store knows; an admin or
    auditor may be created before any agency's records are loaded (the first admin is)."""
    if not _USERNAME.fullmatch(username):
        raise AuthError(
            f"user name {username!r}: 1-64 letters, digits and . _ @ -, starting with a "
            "letter or digit",
            400,
        )
    if role not in ROLES:
        raise AuthError(f"role {role!r}: expected one of {', '.join(ROLES)}", 400)
    if not agency_id.strip():
        raise AuthError("a user needs an agency", 400)
    if role in ("analyst", "supervisor") and not agency_known(ws, agency_id):
        raise AuthError(f"no agency {agency_id!r} in the workspace (ingest agencies first)", 400)
    _check_password(password)
    now = utcnow()
    with ws.store.transaction():
        if _user_row(ws, username) is not None:
            raise AuthError(f"user {username!r} exists", 409)
        ws.store.execute(
            "INSERT INTO users (username, agency_id, role, password_hash, totp_secret, disabled, "
            "failed_attempts, locked_at, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, '', false, 0, NULL, ?, ?)",
            (username, agency_id, role, _hasher.hash(password), now, now),
        )


def reset_user(ws: Workspace, username: str, password: str | None = None) -> None:
    """Unlock an account (and set a new password when one is given)."""
    _require_user(ws, username)
    if password is not None:
        _check_password(password)
        ws.store.execute(
            "UPDATE users SET password_hash = ?, failed_attempts = 0, locked_at = NULL, "
            "updated_at = ? WHERE username = ?",
            (_hasher.hash(password), utcnow(), username),
        )
    else:
        ws.store.execute(
            "UPDATE users SET failed_attempts = 0, locked_at = NULL, updated_at = ? "
            "WHERE username = ?",
            (utcnow(), username),
        )


def set_user_disabled(ws: Workspace, username: str, disabled: bool = True) -> None:
    _require_user(ws, username)
    ws.store.execute(
        "UPDATE users SET disabled = ?, updated_at = ? WHERE username = ?",
        (disabled, utcnow(), username),
    )


def list_users(ws: Workspace) -> list[dict[str, Any]]:
    rows = ws.store.rows(
        "SELECT username, agency_id, role, disabled, locked_at IS NOT NULL, "
        "totp_secret <> '', created_at FROM users ORDER BY username"
    )
    keys = ("username", "agency_id", "role", "disabled", "locked", "totp", "created_at")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def enrol_totp(ws: Workspace, username: str, issuer: str = "lastmile") -> str:
    """Give the account a new TOTP secret; returns the otpauth:// URI for an authenticator."""
    _require_user(ws, username)
    secret = pyotp.random_base32()
    ws.store.execute(
        "UPDATE users SET totp_secret = ?, updated_at = ? WHERE username = ?",
        (secret, utcnow(), username),
    )
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def agency_disabled(ws: Workspace, agency_id: str) -> bool:
    rows = ws.store.rows("SELECT disabled FROM agency_access WHERE agency_id = ?", (agency_id,))
    return bool(rows and rows[0][0])


def set_agency_disabled(ws: Workspace, agency_id: str, disabled: bool, by: str) -> None:
    """Disable (or enable again) an agency: its users cannot sign in, its shares stop."""
    with ws.store.transaction():
        ws.store.execute("DELETE FROM agency_access WHERE agency_id = ?", (agency_id,))
        ws.store.execute(
            "INSERT INTO agency_access VALUES (?, ?, ?, ?)", (agency_id, disabled, by, utcnow())
        )


def _failed(ws: Workspace, username: str, attempts: int) -> None:
    locked = utcnow() if attempts + 1 >= MAX_FAILED else None
    ws.store.execute(
        "UPDATE users SET failed_attempts = failed_attempts + 1, locked_at = ? WHERE username = ?",
        (locked, username),
    )


def authenticate(ws: Workspace, username: str, password: str, otp: str | None) -> Principal:
    """Check a sign-in; raises :class:`AuthError` with the reason to show."""
    row = _user_row(ws, username)
    if row is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        raise AuthError("wrong user name or password")
    if row["locked_at"] is not None:
        raise AuthError(
            f"the account is locked after {MAX_FAILED} failed sign-ins; an administrator "
            "must reset it (lastmile user reset)",
            403,
        )
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        _failed(ws, username, int(row["failed_attempts"] or 0))
        raise AuthError("wrong user name or password") from None
    if row["disabled"]:
        raise AuthError("the account is disabled", 403)
    if agency_disabled(ws, row["agency_id"]):
        raise AuthError(f"the agency {row['agency_id']} is disabled", 403)
    secret = row["totp_secret"] or ""
    if row["role"] == "admin" and not secret:
        raise AuthError(
            "an admin signs in with a second factor: enrol one with 'lastmile user totp'", 403
        )
    if secret:
        if not otp:
            raise AuthError("this account needs its one-time code (the otp field)")
        if not pyotp.TOTP(secret).verify(otp.strip(), valid_window=1):
            _failed(ws, username, int(row["failed_attempts"] or 0))
            raise AuthError("wrong one-time code")
    if row["failed_attempts"]:
        ws.store.execute("UPDATE users SET failed_attempts = 0 WHERE username = ?", (username,))
    return Principal(username, row["agency_id"], row["role"])


def server_secret(ws: Workspace) -> str:
    """The key that signs session tokens: $LASTMILE_SERVER_SECRET, else one kept in the
    workspace (made on first use, shared by every worker of the same store)."""
    env = os.environ.get(SECRET_ENV, "")
    if env:
        if len(env) < 32:
            raise AuthError(f"${SECRET_ENV} must have at least 32 characters", 500)
        return env
    rows = ws.store.rows("SELECT value FROM server_settings WHERE name = 'token_secret'")
    if rows:
        return str(rows[0][0])
    try:
        with ws.store.transaction():
            if not ws.store.rows("SELECT 1 FROM server_settings WHERE name = 'token_secret'"):
                ws.store.execute(
                    "INSERT INTO server_settings VALUES ('token_secret', ?)",
                    (secrets.token_urlsafe(48),),
                )
    except Exception:  # another worker made it first (unique index on PostgreSQL)
        pass
    return str(ws.store.rows("SELECT value FROM server_settings WHERE name = 'token_secret'")[0][0])


def issue_token(ws: Workspace, principal: Principal, secret: str, minutes: int) -> tuple[str, int]:
    """Open a session and sign its token, which expires after ``minutes`` (the absolute
    limit; the idle limit is checked on every request); returns it and its lifetime."""
    now = datetime.now(UTC)
    session_id = uuid.uuid4().hex
    ws.store.execute(
        "INSERT INTO sessions VALUES (?, ?, ?, ?, NULL)",
        (session_id, principal.username, utcnow(), utcnow()),
    )
    claims = {
        "sub": principal.username,
        "agency": principal.agency_id,
        "role": principal.role,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
        "jti": session_id,
    }
    return jwt.encode(claims, secret, algorithm="HS256"), minutes * 60


def end_session(ws: Workspace, token: str, secret: str) -> bool:
    """Sign out: the session of a (valid) session token ends now."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["jti"]})
    except jwt.InvalidTokenError:
        return False
    ws.store.execute(
        "UPDATE sessions SET ended_at = ? WHERE session_id = ? AND ended_at IS NULL",
        (utcnow(), str(claims["jti"])),
    )
    return True


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(
    ws: Workspace, principal: Principal, name: str, days: int = 90
) -> tuple[str, str, datetime]:
    """A token for scripts, shown once; only its hash is kept. Returns id, token, expiry."""
    if not 1 <= days <= 366:
        raise AuthError("an API token lives 1 to 366 days", 400)
    token_id = uuid.uuid4().hex[:12]
    token = f"{API_TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    now = utcnow()
    expires = now + timedelta(days=days)
    ws.store.execute(
        "INSERT INTO api_tokens VALUES (?, ?, ?, ?, ?, ?, NULL)",
        (token_id, principal.username, name[:100], _token_hash(token), now, expires),
    )
    return token_id, token, expires


def revoke_api_token(ws: Workspace, principal: Principal, token_id: str) -> bool:
    rows = ws.store.rows(
        "SELECT 1 FROM api_tokens WHERE token_id = ? AND username = ? AND revoked_at IS NULL",
        (token_id, principal.username),
    )
    if not rows:
        return False
    ws.store.execute(
        "UPDATE api_tokens SET revoked_at = ? WHERE token_id = ?", (utcnow(), token_id)
    )
    return True


# The account, its agency's access and (for a session token) its session, in one round trip.
_CALLER_SQL = (
    "SELECT u.username, u.agency_id, u.role, u.disabled, u.locked_at, "
    "coalesce(a.disabled, false), s.last_seen_at, s.ended_at FROM users u "
    "LEFT JOIN agency_access a ON a.agency_id = u.agency_id "
    "LEFT JOIN sessions s ON s.session_id = ? AND s.username = u.username "
    "WHERE u.username = ?"
)
TOUCH_SECONDS = 30  # a session's last request is written at most this often


def principal_from_token(
    ws: Workspace, token: str, secret: str, idle_minutes: float | None = None
) -> Principal:
    """The caller a bearer token names, as the account stands now; raises AuthError. A
    session token is refused after ``idle_minutes`` without a request (the session lock of
    the CJIS Security Policy) and after sign-out; an API token has no idle limit."""
    via = "password"
    session = ""
    if token.startswith(API_TOKEN_PREFIX):
        rows = ws.store.rows(
            "SELECT username, expires_at, revoked_at FROM api_tokens WHERE token_hash = ?",
            (_token_hash(token),),
        )
        if not rows:
            raise AuthError("the API token is not valid")
        username, expires, revoked = rows[0]
        if revoked is not None:
            raise AuthError("the API token was revoked")
        if expires is not None and expires < utcnow():
            raise AuthError("the API token has expired")
        via = "api_token"
    else:
        try:
            claims = jwt.decode(
                token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("the session has expired; sign in again") from None
        except jwt.InvalidTokenError:
            raise AuthError("the token is not valid") from None
        username = str(claims["sub"])
        session = str(claims.get("jti") or "")
    rows = ws.store.rows(_CALLER_SQL, (session, username))
    if not rows:
        raise AuthError("the token's account no longer exists")
    name, agency, role, disabled, locked_at, agency_off, last_seen, ended = rows[0]
    if disabled:
        raise AuthError("the account is disabled", 403)
    if locked_at is not None:
        raise AuthError("the account is locked", 403)
    if agency_off:
        raise AuthError(f"the agency {agency} is disabled", 403)
    if via == "password":
        now = utcnow()
        if last_seen is None:
            raise AuthError("the session is not known; sign in again")
        if ended is not None:
            raise AuthError("the session was ended (signed out); sign in again")
        if idle_minutes is not None and now - last_seen > timedelta(minutes=idle_minutes):
            raise AuthError(
                f"the session was locked after {idle_minutes:g} minutes without activity; "
                "sign in again"
            )
        if now - last_seen > timedelta(seconds=TOUCH_SECONDS):
            ws.store.execute(
                "UPDATE sessions SET last_seen_at = ? WHERE session_id = ?", (now, session)
            )
    return Principal(str(name), str(agency), str(role), via)
