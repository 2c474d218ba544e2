"""The server through its HTTP interface: identity, need-to-know, audit, uploads, exports and
event deconfliction (issue 13). The policy scenarios run on DuckDB and PostgreSQL."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pyotp
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lastmile.cli import app as cli_app
from lastmile.server import ServerConfig, audit, auth, create_app
from lastmile.store import open_workspace
from lastmile.times import utcnow

from .server_helpers import PASSWORD, build


class Server:
    def __init__(
        self, url: str, tmp: Path, template: tuple[Path, str] | None = None, **config: Any
    ) -> None:
        self.url = url
        if template is not None:  # a copy of the DuckDB workspace built once
            shutil.copyfile(template[0], url)
            self.totp_uri = template[1]
        else:
            with open_workspace(url) as ws:
                self.totp_uri = build(ws, tmp)["admin_totp"]
        self.app = create_app(ServerConfig(workspace=url, upload_dir=tmp / "uploads", **config))
        self.client = TestClient(self.app)
        self.tokens: dict[str, str] = {}

    def sign_in(self, username: str, password: str = PASSWORD, otp: str | None = None) -> Any:
        data = {"username": username, "password": password}
        if otp:
            data["otp"] = otp
        return self.client.post("/api/token", data=data)

    def headers(self, username: str) -> dict[str, str]:
        if username not in self.tokens:
            otp = pyotp.parse_uri(self.totp_uri).now() if username == "dea.admin" else None
            r = self.sign_in(username, otp=otp)
            assert r.status_code == 200, r.text
            self.tokens[username] = r.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[username]}"}

    def get(self, username: str, path: str, **kw: Any) -> Any:
        return self.client.get(path, headers=self.headers(username), **kw)

    def post(self, username: str, path: str, **kw: Any) -> Any:
        return self.client.post(path, headers=self.headers(username), **kw)

    def audit_entries(self) -> list[dict[str, Any]]:
        with open_workspace(self.url) as ws:
            return audit.search(ws, limit=100_000)

    def close(self) -> None:
        self.client.close()
        self.app.state.pool.close()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("template")
    path = folder / "template.duckdb"
    with open_workspace(path) as ws:
        uri = build(ws, folder)["admin_totp"]
    return path, uri


@pytest.fixture
def server(tmp_path: Path, template: tuple[Path, str]) -> Iterator[Server]:
    s = Server(str(tmp_path / "ws.duckdb"), tmp_path, template, max_upload_bytes=4096)
    yield s
    s.close()


@pytest.fixture
def both(workspace_url: str, tmp_path: Path, template: tuple[Path, str]) -> Iterator[Server]:
    """The server over each backend (DuckDB, PostgreSQL)."""
    duck = workspace_url.endswith(".duckdb")
    s = Server(workspace_url, tmp_path, template if duck else None)
    yield s
    s.close()


def _ids(rows: list[dict[str, Any]], key: str) -> set[str]:
    return {r[key] for r in rows}


# -- identity ----------------------------------------------------------------------------------


def test_sign_in_issues_a_bearer_token_and_a_wrong_password_is_refused(server: Server) -> None:
    r = server.sign_in("dea.analyst")
    assert r.status_code == 200
    assert r.json()["token_type"] == "bearer"
    assert server.sign_in("dea.analyst", "wrong password!!").status_code == 401
    assert server.sign_in("nobody.here", "wrong password!!").status_code == 401
    me = server.get("dea.analyst", "/api/me").json()
    assert me == {"username": "dea.analyst", "agency_id": "DEA", "role": "analyst"}


def test_five_failed_sign_ins_lock_the_account_until_reset(server: Server) -> None:
    for _ in range(auth.MAX_FAILED):
        assert server.sign_in("cpd.analyst", "not the password").status_code == 401
    r = server.sign_in("cpd.analyst")  # the right password no longer opens it
    assert r.status_code == 403 and "locked" in r.json()["detail"]
    with open_workspace(server.url) as ws:
        auth.reset_user(ws, "cpd.analyst", None)
    assert server.sign_in("cpd.analyst").status_code == 200


def test_an_admin_needs_the_second_factor(server: Server) -> None:
    r = server.sign_in("dea.admin")
    assert r.status_code == 401 and "one-time code" in r.json()["detail"]
    assert server.sign_in("dea.admin", otp="000000").status_code in (401, 403)
    good = pyotp.parse_uri(server.totp_uri).now()
    assert server.sign_in("dea.admin", otp=good).status_code == 200


def _secret(server: Server) -> str:
    with open_workspace(server.url) as ws:
        return auth.server_secret(ws)


def test_expired_and_forged_tokens_are_refused_and_audited(server: Server) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    claims = {"sub": "dea.analyst", "iat": past, "exp": past + timedelta(minutes=30)}
    expired = jwt.encode(claims, _secret(server), algorithm="HS256")
    r = server.client.get("/api/investigations", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    claims["exp"] = datetime.now(UTC) + timedelta(minutes=30)
    forged = jwt.encode(claims, "x" * 48, algorithm="HS256")
    r = server.client.get("/api/investigations", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and "not valid" in r.json()["detail"]
    none = jwt.encode(claims, None, algorithm="none")
    r = server.client.get("/api/investigations", headers={"Authorization": f"Bearer {none}"})
    assert r.status_code == 401
    assert server.client.get("/api/investigations").status_code == 401
    refused = [e for e in server.audit_entries() if e["path"] == "/api/investigations"]
    assert len(refused) == 4
    assert all(e["outcome"] == "refused" and e["status"] == 401 for e in refused)
    assert any("expired" in e["detail"] for e in refused)


def test_a_disabled_user_or_agency_is_refused_at_once(server: Server) -> None:
    assert server.get("cpd.analyst", "/api/me").status_code == 200
    with open_workspace(server.url) as ws:
        auth.set_user_disabled(ws, "cpd.analyst")
    r = server.get("cpd.analyst", "/api/me")  # a live token stops too
    assert r.status_code == 403 and "disabled" in r.json()["detail"]
    assert server.sign_in("cpd.analyst").status_code == 403
    assert server.get("csp.analyst", "/api/me").status_code == 200
    with open_workspace(server.url) as ws:
        auth.set_agency_disabled(ws, "CSP", True, by="test")
    r = server.get("csp.analyst", "/api/me")
    assert r.status_code == 403 and "agency CSP is disabled" in r.json()["detail"]
    assert server.sign_in("csp.analyst").status_code == 403


def test_api_tokens_serve_scripts_until_revoked(server: Server) -> None:
    r = server.post("dea.analyst", "/api/api-tokens", json={"name": "nightly", "days": 7})
    assert r.status_code == 200, r.text
    token, token_id = r.json()["token"], r.json()["token_id"]
    h = {"Authorization": f"Bearer {token}"}
    assert server.client.get("/api/investigations", headers=h).status_code == 200
    r = server.client.delete(f"/api/api-tokens/{token_id}", headers=server.headers("dea.analyst"))
    assert r.status_code == 204
    r = server.client.get("/api/investigations", headers=h)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def _idle(server: Server, username: str, minutes: int) -> None:
    """Move the user's sessions' last request ``minutes`` into the past."""
    with open_workspace(server.url) as ws:
        ws.store.execute(
            "UPDATE sessions SET last_seen_at = ? WHERE username = ?",
            (utcnow() - timedelta(minutes=minutes), username),
        )


def test_a_session_locks_after_the_idle_time_and_activity_keeps_it_open(
    tmp_path: Path, template: tuple[Path, str]
) -> None:
    s = Server(str(tmp_path / "ws.duckdb"), tmp_path, template, idle_minutes=15)
    try:
        assert s.get("dea.analyst", "/api/me").status_code == 200
        _idle(s, "dea.analyst", 10)
        assert s.get("dea.analyst", "/api/me").status_code == 200  # and it counts as activity
        _idle(s, "dea.analyst", 10)  # ten more quiet minutes are not fifteen since the last one
        assert s.get("dea.analyst", "/api/me").status_code == 200
        _idle(s, "dea.analyst", 16)
        r = s.get("dea.analyst", "/api/me")
        assert r.status_code == 401 and "15 minutes without activity" in r.json()["detail"]
        assert s.audit_entries()[-1]["outcome"] == "refused"
        # A new sign-in opens a new session.
        s.tokens.clear()
        assert s.get("dea.analyst", "/api/me").status_code == 200
    finally:
        s.close()


def test_sign_out_ends_the_session(server: Server) -> None:
    h = server.headers("cpd.analyst")
    assert server.client.post("/api/sign-out", headers=h).status_code == 204
    r = server.client.get("/api/me", headers=h)
    assert r.status_code == 401 and "signed out" in r.json()["detail"]


# -- need-to-know (both backends) ----------------------------------------------------------------


def test_each_agency_sees_its_own_investigations_and_404_hides_the_rest(both: Server) -> None:
    dea = both.get("dea.analyst", "/api/investigations").json()
    assert _ids(dea, "investigation_id") == {"INV-1", "INV-3"}
    cpd = both.get("cpd.analyst", "/api/investigations").json()
    assert _ids(cpd, "investigation_id") == {"INV-2"}
    hidden = both.get("dea.analyst", "/api/investigations/INV-2")
    missing = both.get("dea.analyst", "/api/investigations/INV-404")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == "no investigation 'INV-2'"
    assert both.get("dea.admin", "/api/investigations").json() == []  # admins are not on cases
    assert both.get("dea.auditor", "/api/investigations").json() == []


def test_a_supervisor_shares_and_takes_back(both: Server) -> None:
    assert (
        both.post(
            "dea.analyst", "/api/investigations/INV-1/shares", json={"agency_id": "CPD"}
        ).status_code
        == 403
    )
    assert (
        both.post(
            "cpd.super", "/api/investigations/INV-1/shares", json={"agency_id": "CPD"}
        ).status_code
        == 404
    )
    r = both.post("dea.super", "/api/investigations/INV-1/shares", json={"agency_id": "CPD"})
    assert r.status_code == 201, r.text
    share_id = r.json()["share_id"]
    assert both.get("cpd.analyst", "/api/investigations/INV-1").status_code == 200
    names = {n for r in both.get("cpd.analyst", "/api/entities/E-P1").json()["names"] for n in [r]}
    assert "José Luis Ramírez Ochoa" in names and "Luis Ramirez" in names
    assert both.get("csp.analyst", "/api/investigations/INV-1").status_code == 404
    r = both.client.delete(
        f"/api/investigations/INV-1/shares/{share_id}", headers=both.headers("dea.super")
    )
    assert r.status_code == 204
    assert both.get("cpd.analyst", "/api/investigations/INV-1").status_code == 404
    # a named user; an admin reads case data only when granted it by name
    r = both.post("dea.super", "/api/investigations/INV-3/shares", json={"username": "dea.admin"})
    assert r.status_code == 201
    assert _ids(both.get("dea.admin", "/api/investigations").json(), "investigation_id") == {
        "INV-3"
    }


def test_an_entity_shows_only_the_callers_records(both: Server) -> None:
    dea = both.get("dea.analyst", "/api/entities/E-P1").json()
    assert [r["record_id"] for r in dea["records"]] == ["S-1"]
    assert "Luis Ramirez" not in dea["names"] and "Guero" not in dea["names"]
    cpd = both.get("cpd.analyst", "/api/entities/E-P1").json()
    assert [r["record_id"] for r in cpd["records"]] == ["S-3"]
    assert cpd["name"] == "Luis Ramirez"
    assert "José Luis Ramírez Ochoa" not in json.dumps(cpd, ensure_ascii=False)
    # E-P4 is made only of DEA's INV-3: it does not exist for CPD
    assert both.get("cpd.analyst", "/api/entities/E-P4").status_code == 404
    listed = _ids(both.get("cpd.analyst", "/api/entities").json(), "entity_id")
    assert listed == {"E-P1", "E-O2", "E-S3"}


def test_a_disabled_agencys_investigations_and_shares_stop(both: Server) -> None:
    both.post("cpd.super", "/api/investigations/INV-2/shares", json={"agency_id": "DEA"})
    assert both.get("dea.analyst", "/api/investigations/INV-2").status_code == 200
    with open_workspace(both.url) as ws:
        auth.set_agency_disabled(ws, "CPD", True, by="test")
    assert both.get("dea.analyst", "/api/investigations/INV-2").status_code == 404


def test_overlap_with_another_agency_is_only_a_conflict_notice(both: Server) -> None:
    body = both.get("dea.analyst", "/api/conflicts").json()
    [notice] = body["targets"]
    assert notice["entity_id"] == "E-P1"
    assert notice["other_agency"]["agency_id"] == "CPD"
    assert notice["other_agency"]["poc_name"] == "Det. Robin Park"
    text = json.dumps(body, ensure_ascii=False)
    for hidden in ("S-3", "INV-2", "Luis Ramirez", "CPD-22-118"):
        assert hidden not in text
    lookup = both.get("dea.analyst", "/api/deconflict", params={"selector": "+52 33 1234 5678"})
    assert lookup.status_code == 200
    assert lookup.json()["your_records"] == []
    assert [c["other_agency"]["agency_id"] for c in lookup.json()["conflicts"]] == ["CPD"]
    assert "P-3" not in lookup.text


# -- networks, key players, attribution (both backends) ------------------------------------------


def test_a_network_shows_visible_members_and_ties_and_a_notice_for_the_rest(both: Server) -> None:
    dea = both.get("dea.analyst", "/api/networks/N-1").json()
    assert _ids(dea["members"], "entity_id") == {"E-O1", "E-P1", "E-P2", "E-P4"}
    assert dea["people"] == 3 and dea["organizations"] == 1  # of what DEA sees, not 5 and 2
    assert [(t["kind"], t["record_ids"]) for t in dea["ties"]] == [
        ("membership", ["R-2"]),
        ("supply", ["R-1"]),
    ]  # R-3 is CPD's; the E-P2 - E-P4 calls have no event DEA sees
    assert [c["other_agency"]["agency_id"] for c in dea["conflicts"]] == ["CPD"]
    assert dea["conflicts"][0]["other_agency"]["poc_name"] == "Det. Robin Park"
    text = json.dumps(dea, ensure_ascii=False)
    for hidden in ("E-O2", "Eastside Crew", "R-3", "INV-2", "Luis Ramirez"):
        assert hidden not in text
    assert _ids(both.get("dea.analyst", "/api/networks").json(), "network_id") == {"N-1", "N-2"}
    cpd = both.get("cpd.analyst", "/api/networks/N-1").json()
    assert _ids(cpd["members"], "entity_id") == {"E-O2", "E-P1"}
    assert [t["record_ids"] for t in cpd["ties"]] == [["R-3"]]
    # N-2 is made only of DEA's records: for CPD it does not exist
    for path in ("/api/networks/N-2", "/api/networks/N-2/key-players", "/api/networks/N-404"):
        r = both.get("cpd.analyst", path)
        assert r.status_code == 404 and "N-2" not in r.text.replace(path.split("/")[3], "")
    assert both.get("csp.analyst", "/api/networks").json() == []
    logged = [e for e in both.audit_entries() if e["path"] == "/api/networks/N-1"]
    assert [(e["username"], e["records"]) for e in logged] == [
        ("dea.analyst", 6),
        ("cpd.analyst", 3),
    ]


def test_key_players_are_the_visible_ones_ranked_among_themselves(both: Server) -> None:
    dea = both.get("dea.analyst", "/api/networks/N-1/key-players").json()
    assert [(k["rank"], k["entity_id"], k["score"]) for k in dea["key_players"]] == [
        (1, "E-P1", 0.5),
        (2, "E-P2", 0.1),
    ]
    # The reasons count the whole network (its size): withheld while part of it is hidden.
    assert all(k["why"] is None for k in dea["key_players"])
    assert "5 people" not in json.dumps(dea) and "E-O2" not in json.dumps(dea)
    assert [c["other_agency"]["agency_id"] for c in dea["conflicts"]] == ["CPD"]
    whole = both.get("dea.analyst", "/api/networks/N-2/key-players").json()
    assert whole["complete"] and whole["key_players"][0]["why"] == "alone"


def test_attribution_shows_the_path_through_visible_steps_only(both: Server) -> None:
    dea = both.get("dea.analyst", "/api/networks/N-1/attribution").json()
    assert (dea["cartel"], dea["score"]) == ("Sinaloa", 0.8)
    assert [s["step"] for s in dea["path"]] == ["entity", "tie", "entity", "hidden"]
    assert [s.get("entity_id") for s in dea["path"]] == ["E-P2", None, "E-P1", None]
    assert dea["reason"] is None and dea["label"] is None
    text = json.dumps(dea, ensure_ascii=False)
    for hidden in ("E-O2", "Eastside Crew", "R-3", "O-2", "CJNG"):
        assert hidden not in text
    assert [c["other_agency"]["agency_id"] for c in dea["conflicts"]] == ["CPD"]
    cpd = both.get("cpd.analyst", "/api/networks/N-1/attribution").json()
    assert [s["step"] for s in cpd["path"]] == ["hidden", "entity", "tie", "entity"]
    # Shared, every step is visible, and the closing reason with it.
    both.post("cpd.super", "/api/investigations/INV-2/shares", json={"agency_id": "DEA"})
    shared = both.get("dea.analyst", "/api/networks/N-1/attribution").json()
    assert [s["step"] for s in shared["path"]] == ["entity", "tie", "entity", "tie", "entity"]
    assert "Eastside Crew" in shared["reason"] and shared["conflicts"] == []


def test_a_call_tie_shows_only_when_visible_records_own_both_phones(both: Server) -> None:
    # Make S-3 (CPD) a person of its own: DEA's calls C-1 and C-2 go from S-1's phone (DEA) to
    # +52 33 1234 5678, which only CPD's records (P-3, R-3) say S-3 uses.
    with open_workspace(both.url) as ws:
        ws.store.execute("UPDATE entity_members SET entity_id = 'E-P3' WHERE record_id = 'S-3'")
        ws.store.execute(
            "INSERT INTO entities VALUES ('E-P3', 'person', 'E-P3', '', '', NULL, NULL)"
        )
        ws.store.execute("INSERT INTO network_members VALUES ('N-1', 'E-P3', false, '1')")
        ws.store.execute(
            "INSERT INTO ties VALUES ('E-P1', 'E-P3', 'communication', 2, '', 'A1', "
            "'2022-07-05', '2022-07-05')"
        )

    def calls(user: str) -> list[int]:
        body = both.get(user, "/api/networks/N-1").json()
        return [t["records"] for t in body["ties"] if t["kind"] == "communication"]

    assert calls("dea.analyst") == []  # DEA's events, but the owner is known only to CPD
    assert calls("cpd.analyst") == []  # CPD knows the owner, but the events are DEA's
    both.post("cpd.super", "/api/investigations/INV-2/shares", json={"agency_id": "DEA"})
    assert calls("dea.analyst") == [2]


def test_network_answers_say_when_a_later_resolution_made_the_analysis_stale(both: Server) -> None:
    paths = ("/api/networks/N-1", "/api/networks/N-1/key-players", "/api/networks/N-1/attribution")
    for path in paths:
        assert both.get("dea.analyst", path).json()["analysis"] is None  # never analysed
    with open_workspace(both.url) as ws:
        ws.store.execute(
            "INSERT INTO analysis_runs (run_id, started_at, finished_at, seconds_json, "
            "counts_json, lastmile_version) VALUES ('A-1', "
            "CAST('2026-01-02 10:00:00' AS TIMESTAMP), "
            "CAST('2026-01-02 10:01:00' AS TIMESTAMP), '{}', '{}', 'test')"
        )
    for path in paths:
        state = both.get("dea.analyst", path).json()["analysis"]
        assert state == {"run_id": "A-1", "analysed_at": "2026-01-02T10:01:00", "fresh": True}
    assert both.get("dea.analyst", "/api/networks").json()[0]["analysis"]["fresh"] is True
    with open_workspace(both.url) as ws:  # a resolution finished after the analysis began
        ws.store.execute(
            "INSERT INTO resolution_runs (run_id, started_at, finished_at) VALUES "
            "('R-9', CAST('2026-01-02 09:59:00' AS TIMESTAMP), "
            "CAST('2026-01-02 10:30:00' AS TIMESTAMP))"
        )
    for path in paths:
        assert both.get("dea.analyst", path).json()["analysis"]["fresh"] is False
    assert both.get("dea.analyst", "/api/networks").json()[0]["analysis"]["fresh"] is False
    with open_workspace(both.url) as ws:  # since migration 0012 the run id decides, not the times
        ws.store.execute("UPDATE analysis_runs SET resolution_run_id = 'R-9'")
    assert both.get("dea.analyst", "/api/networks").json()[0]["analysis"]["fresh"] is True
    with open_workspace(both.url) as ws:  # another resolution run: stale again
        ws.store.execute(
            "INSERT INTO resolution_runs (run_id, started_at, finished_at) VALUES "
            "('R-10', CAST('2026-01-02 09:00:00' AS TIMESTAMP), "
            "CAST('2026-01-02 10:31:00' AS TIMESTAMP))"
        )
    assert both.get("dea.analyst", "/api/networks").json()[0]["analysis"]["fresh"] is False


# -- judgements and corrected uploads -------------------------------------------------------------


def _judgements(both: Server) -> list[tuple[str, str, str, str]]:
    with open_workspace(both.url) as ws:
        rows = ws.store.rows(
            "SELECT verdict, record_a, record_b, analyst FROM judgements ORDER BY made_at, record_b"
        )
    return [tuple(map(str, r)) for r in rows]  # type: ignore[misc]


def test_a_user_judges_only_records_they_may_see(both: Server) -> None:
    ok = {"verdict": "different", "record_a": "S-1", "record_b": "S-2", "note": "two people"}
    r = both.post("dea.analyst", "/api/judgements", json=ok)
    assert r.status_code == 201, r.text
    assert _judgements(both) == [("different", "S-1", "S-2", "dea.analyst")]
    # S-3 is CPD's: for DEA it is as missing as a record that does not exist.
    hidden = both.post("dea.analyst", "/api/judgements", json={**ok, "record_b": "S-3"})
    missing = both.post("dea.analyst", "/api/judgements", json={**ok, "record_b": "S-404"})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"] == "no subject record 'S-3'"
    assert both.post("dea.auditor", "/api/judgements", json=ok).status_code == 403
    assert len(_judgements(both)) == 1
    both.post("cpd.super", "/api/investigations/INV-2/shares", json={"agency_id": "DEA"})
    same = {"verdict": "same", "record_a": "S-1", "record_b": "S-3"}
    assert both.post("dea.analyst", "/api/judgements", json=same).status_code == 201
    logged = [e for e in both.audit_entries() if e["action"] == "judge"]
    assert [e["status"] for e in logged] == [201, 404, 404, 403, 201]


def test_possible_matches_show_only_pairs_whose_records_the_caller_sees(both: Server) -> None:
    def pairs(user: str, **params: Any) -> list[tuple[str, str]]:
        r = both.get(user, "/api/possible-matches", params=params)
        assert r.status_code == 200, r.text
        return [(row["record_a"], row["record_b"]) for row in r.json()]

    rows = both.get("dea.analyst", "/api/possible-matches").json()
    # E-P1 and E-P2 by the best pair DEA sees (S-1, S-2), not hidden behind CPD's S-3.
    assert [(r["record_a"], r["record_b"]) for r in rows] == [("S-1", "S-2"), ("S-2", "S-4")]
    assert [r["probability"] for r in rows] == [0.6, 0.42]
    # Named by the records, never by an entity's best name; no count of hidden pairs.
    assert (rows[1]["name_a"], rows[1]["name_b"]) == ("Ana Fictional", "Mark Example")
    assert rows[1]["why"] == "below the threshold (0.5)" and "pairs" not in rows[1]
    assert pairs("cpd.analyst") == [] and pairs("csp.analyst") == []
    both.post("cpd.super", "/api/investigations/INV-2/shares", json={"agency_id": "DEA"})
    # Once shared, the pair's best (S-3, S-2) takes its place: each pair of entities once.
    assert pairs("dea.analyst") == [("S-3", "S-2"), ("S-2", "S-4")]  # most likely first
    assert pairs("dea.analyst", min_probability=0.5) == [("S-3", "S-2")]
    assert pairs("dea.analyst", min_probability=0.95) == []
    assert pairs("dea.analyst", limit=1) == [("S-3", "S-2")]
    assert pairs("dea.analyst", entity_id="E-P4") == [("S-2", "S-4")]
    assert pairs("cpd.analyst") == []  # S-2 is still DEA's alone
    bad = both.get("dea.analyst", "/api/possible-matches", params={"min_probability": 2})
    assert bad.status_code == 422


def test_a_split_names_visible_records_and_applies_to_everyone(both: Server) -> None:
    # CPD sees only S-3 of E-P1 (S-1 is DEA's): its split is stored against the whole entity.
    r = both.post("cpd.analyst", "/api/entities/E-P1/split", json={"records": ["S-3"]})
    assert r.status_code == 201, r.text
    assert r.json() == {"entity_id": "E-P1", "split": ["S-3"]}  # no count of hidden records
    assert _judgements(both) == [("different", "S-3", "S-1", "cpd.analyst")]
    r = both.post("dea.analyst", "/api/entities/E-P1/split", json={"records": ["S-3"]})
    assert r.status_code == 404
    r = both.post("cpd.analyst", "/api/entities/E-P4/split", json={"records": ["S-4"]})
    assert r.status_code == 404 and r.json()["detail"] == "no entity 'E-P4'"


def test_an_upload_supersedes_only_a_batch_of_the_callers_agency(both: Server) -> None:
    first = b"subject_id,investigation_id,full_name\nS-50,INV-1,Wrong Name\n"
    r = both.post("dea.analyst", "/api/uploads/subjects.csv", content=first)
    assert r.status_code == 200, r.text
    batch = r.json()["batch_id"]
    fixed = b"subject_id,investigation_id,full_name\nS-50,INV-1,Right Name\n"
    theirs = b"subject_id,investigation_id,full_name\nS-51,INV-2,Their Name\n"
    r = both.post(
        "cpd.analyst", "/api/uploads/subjects.csv", params={"supersedes": batch}, content=theirs
    )
    assert r.status_code == 404 and r.json()["detail"] == f"no batch {batch!r} of agency CPD"
    r = both.post(
        "dea.analyst", "/api/uploads/subjects.csv", params={"supersedes": batch}, content=fixed
    )
    assert r.status_code == 200, r.text
    assert r.json()["superseded_files"] == ["subjects.csv"]
    with open_workspace(both.url) as ws:
        names = ws.store.rows("SELECT full_name FROM subjects WHERE subject_id = 'S-50'")
    assert names == [("Right Name",)]


@pytest.mark.parametrize(
    "q",
    [
        "O'Brien",
        "' OR '1'='1",
        "'; DROP TABLE subjects; --",
        "%",
        "_",
        "\\",
        "S-1' UNION SELECT password_hash, 1, 1, 1, 1, 1 FROM users --",
    ],
)
def test_search_treats_injection_as_data(server: Server, q: str) -> None:
    r = server.get("cpd.analyst", "/api/search", params={"q": q})
    assert r.status_code == 200, r.text
    assert all(hit["investigation_id"] == "INV-2" for hit in r.json())
    for path, params in (
        ("/api/deconflict", {"selector": q}),
        ("/api/entities", {"kind": q}),
        ("/api/audit", {"contains": q}),
        ("/api/investigations/" + q, {}),
    ):
        assert server.get("cpd.analyst", path, params=params).status_code < 500
    # nothing was dropped and nothing else became visible
    assert len(server.get("dea.analyst", "/api/investigations").json()) == 2
    logged = [e for e in server.audit_entries() if e["action"] == "search"]
    assert json.loads(logged[-1]["detail"])["q"] == q


def test_search_finds_a_name_with_an_apostrophe(server: Server) -> None:
    body = b"subject_id,investigation_id,full_name\nS-9,INV-1,Pat O'Brien\n"
    assert server.post("dea.analyst", "/api/uploads/subjects.csv", content=body).status_code == 200
    hits = server.get("dea.analyst", "/api/search", params={"q": "o'brien"}).json()
    assert [h["record_id"] for h in hits] == ["S-9"]
    assert server.get("cpd.analyst", "/api/search", params={"q": "o'brien"}).json() == []


# -- uploads and exports -----------------------------------------------------------------------


def test_an_upload_over_the_limit_is_refused_and_nothing_is_kept(server: Server) -> None:
    big = b"subject_id,investigation_id,full_name\n" + b"S-99,INV-1,Big Upload\n" * 400
    r = server.post("dea.analyst", "/api/uploads/subjects.csv", content=big)
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    assert not list((server.app.state.config.upload_dir).glob("*/subjects.csv"))

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        yield big

    r = server.post("dea.analyst", "/api/uploads/subjects.csv", content=chunks())
    assert r.status_code == 413
    entries = [e for e in server.audit_entries() if e["action"] == "upload"]
    assert [e["status"] for e in entries] == [413, 413]


def test_malformed_and_misnamed_uploads_are_refused(server: Server) -> None:
    r = server.post("dea.analyst", "/api/uploads/subjects.csv", content=b'\x00\xff"unclosed\n,,,')
    assert r.status_code in (200, 422), r.text
    if r.status_code == 200:
        assert r.json()["loaded"] == 0
    for name in ("..%2F..%2Fetc%2Fpasswd", "notes.txt", ".hidden.csv"):
        r = server.post("dea.analyst", f"/api/uploads/{name}", content=b"a,b\n1,2\n")
        assert r.status_code in (400, 404), (name, r.text)
    bad_rows = b"subject_id,investigation_id,full_name,dob\nS-20,INV-1,Ok Name,2020-13-45\n"
    r = server.post("dea.analyst", "/api/uploads/subjects.csv", content=bad_rows)
    assert r.status_code == 200 and r.json()["rejected"] == 1
    assert "dob" in r.json()["first_rejects"][0]


@pytest.mark.parametrize(
    "name", ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "subjects.csv/../../x", "%2e%2e"]
)
def test_path_traversal_in_export_names_is_refused(server: Server, name: str) -> None:
    r = server.get("dea.analyst", f"/api/exports/{name}")
    assert r.status_code in (400, 404)
    if r.status_code == 400:
        assert "export name" in r.json()["detail"]


def test_exports_hold_only_visible_records(server: Server) -> None:
    r = server.get("cpd.analyst", "/api/exports/subjects.csv")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:2] == ["subject_id", "investigation_id"]
    assert [row[0] for row in rows[1:]] == ["S-3"]


def test_exports_and_the_audit_export_do_not_carry_live_formulas(server: Server) -> None:
    body = b'subject_id,investigation_id,full_name\nS-30,INV-1,=HYPERLINK("x")\n'
    assert server.post("dea.analyst", "/api/uploads/subjects.csv", content=body).status_code == 200
    r = server.get("dea.analyst", "/api/exports/subjects.csv")
    names = [row[2] for row in csv.reader(io.StringIO(r.text))]
    assert '\'=HYPERLINK("x")' in names
    server.get("dea.analyst", "/api/search", params={"q": "=1+1"})
    audit_csv = server.get("dea.auditor", "/api/audit/export").text
    assert not any(
        cell.startswith("=") for row in csv.reader(io.StringIO(audit_csv)) for cell in row
    )


def test_the_report_is_an_aggregate_for_every_signed_in_user(server: Server) -> None:
    r = server.get("csp.analyst", "/api/report")
    assert r.status_code == 200 and r.json()["investigations"] >= 3
    html = server.get("csp.analyst", "/api/report", params={"format": "html"})
    assert html.status_code == 200 and html.text.lstrip().lower().startswith("<!doctype html")
    assert server.client.get("/api/report").status_code == 401


# -- audit ---------------------------------------------------------------------------------------


def test_every_request_is_in_the_chain_and_a_hand_edit_breaks_it(
    server: Server, tmp_path: Path
) -> None:
    server.get("dea.analyst", "/api/investigations")
    server.get("dea.analyst", "/api/investigations/INV-1")
    runner = CliRunner()
    ok = runner.invoke(cli_app, ["audit", "verify", "--workspace", server.url])
    assert ok.exit_code == 0, ok.output
    entries = server.audit_entries()
    read = next(e for e in entries if e["path"] == "/api/investigations/INV-1")
    assert read["username"] == "dea.analyst" and read["records"] > 1
    assert read["client"] and read["logged_at"]
    server.close()
    with open_workspace(server.url) as ws:
        ws.store.execute("UPDATE audit_log SET username = 'someone.else' WHERE seq = 2")
    bad = runner.invoke(cli_app, ["audit", "verify", "--workspace", server.url])
    assert bad.exit_code == 1
    assert "entry 2 was changed" in bad.output


def test_auditors_search_and_export_the_trail_and_others_may_not(server: Server) -> None:
    server.get("cpd.analyst", "/api/search", params={"q": "ramirez"})
    assert server.get("dea.analyst", "/api/audit").status_code == 403
    r = server.get("dea.auditor", "/api/audit", params={"username": "cpd.analyst"})
    assert r.status_code == 200
    assert {e["username"] for e in r.json()} == {"cpd.analyst"}
    assert any(e["action"] == "search" for e in r.json())
    csv_text = server.get("dea.auditor", "/api/audit/export").text
    assert csv_text.startswith("seq,logged_at,username")
    assert server.get("dea.auditor", "/api/audit/verify").json()["ok"] is True


# -- planned operations ----------------------------------------------------------------------------


def _op(**kw: Any) -> dict[str, Any]:
    op = {
        "kind": "search_warrant",
        "latitude": 39.7392,
        "longitude": -104.9903,
        "address": "1200 Example St, Denver, CO",
        "starts_at": "2023-03-01T05:00:00Z",
        "ends_at": "2023-03-01T09:00:00Z",
    }
    return op | kw


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"latitude": 91}, "latitude"),
        ({"longitude": -180.5}, "longitude"),
        ({"ends_at": "2023-03-01T04:00:00Z"}, "not after start"),
        ({"kind": "picnic"}, "kind"),
    ],
)
def test_a_bad_planned_operation_is_refused(
    server: Server, change: dict[str, Any], words: str
) -> None:
    r = server.post("dea.analyst", "/api/operations", json=_op(**change))
    assert r.status_code == 422 and words in r.json()["detail"]
    assert server.audit_entries()[-1]["status"] == 422


def test_overlapping_operations_of_two_agencies_are_told_to_both(server: Server) -> None:
    first = server.post("dea.analyst", "/api/operations", json=_op()).json()
    assert first["conflicts"] == []
    # 600 m away, overlapping by an hour
    second = server.post(
        "cpd.analyst",
        "/api/operations",
        json=_op(
            kind="buy_bust",
            latitude=39.7446,
            starts_at="2023-03-01T08:00:00Z",
            ends_at="2023-03-01T11:00:00Z",
            address="Secret CPD address",
        ),
    ).json()
    [c] = second["conflicts"]
    assert c["other_agency"]["agency_id"] == "DEA" and c["other_agency"]["poc_name"]
    assert 550 < c["distance_m"] < 650
    dea = server.get("dea.analyst", "/api/operations/conflicts").json()
    [d] = dea
    assert d["other_agency"]["agency_id"] == "CPD"
    assert d["your_operation"]["operation_id"] == first["operation_id"]
    assert "Secret CPD address" not in json.dumps(dea)
    # the SSE stream announces it too
    with server.client.stream(
        "GET",
        "/api/operations/events",
        params={"seconds": 0.2},
        headers=server.headers("dea.analyst"),
    ) as stream:
        text = "".join(stream.iter_text())
    assert "event: conflict" in text and c["conflict_id"] in text


def test_far_apart_later_or_same_team_operations_do_not_conflict(server: Server) -> None:
    server.post("dea.analyst", "/api/operations", json=_op(division="Rocky Mountain"))
    far = server.post("cpd.analyst", "/api/operations", json=_op(latitude=39.76)).json()
    later = server.post(
        "cpd.analyst",
        "/api/operations",
        json=_op(starts_at="2023-03-01T09:00:00Z", ends_at="2023-03-01T10:00:00Z"),
    ).json()
    same = server.post("dea.super", "/api/operations", json=_op(division="Rocky Mountain")).json()
    other_division = server.post(
        "dea.super", "/api/operations", json=_op(division="New England")
    ).json()
    assert far["conflicts"] == later["conflicts"] == same["conflicts"] == []
    assert len(other_division["conflicts"]) == 2  # both DEA Rocky Mountain submissions


def test_cli_user_commands(tmp_path: Path) -> None:
    url = str(tmp_path / "ws.duckdb")
    runner = CliRunner()
    r = runner.invoke(
        cli_app,
        [
            "user",
            "add",
            "first.admin",
            "--agency",
            "DEA",
            "--role",
            "admin",
            "--password-stdin",
            "--workspace",
            url,
        ],
        input=PASSWORD + "\n",
    )
    assert r.exit_code == 0, r.output
    assert "otpauth://totp/" in r.output
    r = runner.invoke(
        cli_app,
        [
            "user",
            "add",
            "x",
            "--agency",
            "DEA",
            "--role",
            "auditor",
            "--password-stdin",
            "--workspace",
            url,
        ],
        input="short\n",
    )
    assert r.exit_code == 1 and "at least" in r.output
    assert (
        runner.invoke(cli_app, ["user", "disable", "first.admin", "--workspace", url]).exit_code
        == 0
    )
    listed = json.loads(runner.invoke(cli_app, ["user", "list", "--workspace", url]).output)
    assert listed[0]["username"] == "first.admin" and listed[0]["disabled"] is True
    assert runner.invoke(
        cli_app, ["user", "totp", "first.admin", "--workspace", url]
    ).output.startswith("otpauth://")
    r = runner.invoke(
        cli_app,
        ["user", "reset", "first.admin", "--password-stdin", "--workspace", url],
        input=PASSWORD + "x\n",
    )
    assert r.exit_code == 0
    assert runner.invoke(cli_app, ["agency", "disable", "DEA", "--workspace", url]).exit_code == 0
    r = runner.invoke(cli_app, ["user", "reset", "nobody", "--unlock-only", "--workspace", url])
    assert r.exit_code == 1 and "no user" in r.output


def test_the_audit_log_on_postgresql_ignores_updates_and_deletes(both: Server) -> None:
    both.get("dea.analyst", "/api/me")
    if not both.url.startswith("postgresql"):
        pytest.skip("rules exist on PostgreSQL only (DuckDB's log is checked by its chain)")
    with open_workspace(both.url) as ws:
        before = ws.store.rows("SELECT count(*), max(username) FROM audit_log")
        ws.store.execute("UPDATE audit_log SET username = 'someone.else'")
        ws.store.execute("DELETE FROM audit_log")
        assert ws.store.rows("SELECT count(*), max(username) FROM audit_log") == before
        assert audit.verify(ws).ok


def test_killing_the_server_mid_upload_leaves_no_half_batch(
    tmp_path: Path, template: tuple[Path, str]
) -> None:
    """kill -9 during a large upload: the store holds the batch whole or not at all."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import threading
    import time

    import httpx

    url = str(tmp_path / "ws.duckdb")
    shutil.copyfile(template[0], url)
    with open_workspace(url) as ws:
        before = ws.store.rows("SELECT count(*) FROM subjects")[0][0]
        batches = ws.store.rows("SELECT count(*) FROM batches")[0][0]
        secret = auth.server_secret(ws)
        token, _ = auth.issue_token(ws, auth.Principal("dea.analyst", "DEA", "analyst"), secret, 5)
    rows = 200_000
    body = b"subject_id,investigation_id,full_name\n" + b"".join(
        b"K-%d,INV-1,Kill Test %d\n" % (i, i) for i in range(rows)
    )
    exe = str(Path(sys.executable).with_name("lastmile"))

    def start() -> tuple[subprocess.Popen[bytes], int] | None:
        """A server on a free port, up and answering; None when another process took the
        port between our probe and the server's bind (it then exits)."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        cmd = [exe, "serve", "--workspace", url, "--port", str(port), "--max-upload-mb", "64"]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        for _ in range(300):
            if proc.poll() is not None:
                return None
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return proc, port
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return None

    started = next((p for p in (start() for _ in range(3)) if p is not None), None)
    # Without a server the upload below fails quietly and the store is trivially unchanged.
    assert started is not None, "the server did not start"
    proc, port = started
    try:

        def send() -> None:
            with contextlib.suppress(httpx.HTTPError):
                httpx.post(
                    f"http://127.0.0.1:{port}/api/uploads/subjects.csv",
                    content=body,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=60,
                )

        sender = threading.Thread(target=send)
        sender.start()
        time.sleep(1.5)  # the file is on disk and the batch is being loaded
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    sender.join()
    with open_workspace(url) as ws:
        after = ws.store.rows("SELECT count(*) FROM subjects")[0][0]
        after_batches = ws.store.rows("SELECT count(*) FROM batches")[0][0]
        assert ws.store.rows("SELECT count(*) FROM subjects WHERE subject_id = 'S-1'")[0][0] == 1
    assert (after, after_batches) in ((before, batches), (before + rows, batches + 1))


def test_nul_characters_are_refused_not_a_server_error(both: Server) -> None:
    for path, params in (
        ("/api/search", {"q": "a\x00b"}),
        ("/api/deconflict", {"selector": "\x00"}),
        ("/api/investigations/INV%001", {}),
    ):
        r = both.get("dea.analyst", path, params=params)
        assert r.status_code in (400, 404), (path, r.text)
    r = both.post("dea.analyst", "/api/operations", json=_op(address="x\x00y"))
    assert r.status_code == 422
    r = both.client.post("/api/token", data={"username": "dea\x00analyst", "password": "x"})
    assert r.status_code in (401, 422)
    with open_workspace(both.url) as ws:
        assert audit.verify(ws).ok
