"""schemathesis against the server's OpenAPI description: generated requests (a bounded number
per operation) never get a 5xx, signed in or not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from lastmile.server import ServerConfig, auth, create_app
from lastmile.store import open_workspace

from .server_helpers import build

MAX_EXAMPLES = 12  # per operation


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    folder = tmp_path_factory.mktemp("schema")
    url = str(folder / "ws.duckdb")
    with open_workspace(url) as ws:
        build(ws, folder)
        secret = auth.server_secret(ws)
        token, _ = auth.issue_token(
            ws, auth.Principal("dea.super", "DEA", "supervisor"), secret, 60
        )
    app = create_app(
        ServerConfig(workspace=url, upload_dir=folder / "up", max_upload_bytes=64 * 1024)
    )
    # The event stream is held open for its `seconds`: tested in test_server.py instead.
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(
        path="/api/operations/events"
    )
    yield schema, token
    app.state.pool.close()


def test_no_generated_request_gets_a_server_error(api: tuple[Any, str]) -> None:
    schema, token = api
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: list[int] = []
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            statuses.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error])

        check()
    assert len(statuses) >= 5 * len(operations)
    assert any(s < 300 for s in statuses) and any(400 <= s < 500 for s in statuses)


def test_the_description_is_complete(tmp_path: Path) -> None:
    url = str(tmp_path / "ws.duckdb")
    app = create_app(ServerConfig(workspace=url))
    spec = app.openapi()
    paths = spec["paths"]
    for path in (
        "/api/token",
        "/api/investigations",
        "/api/investigations/{investigation_id}",
        "/api/search",
        "/api/conflicts",
        "/api/entities/{entity_id}",
        "/api/report",
        "/api/exports/{name}",
        "/api/uploads/{filename}",
        "/api/operations",
        "/api/audit",
    ):
        assert path in paths, path
    for path, ops in paths.items():
        for method, op in ops.items():
            assert op.get("summary") and op.get("description"), (method, path)
            ok = op["responses"].get("200") or op["responses"].get("201") or {}
            if method == "get" and "content" in ok:
                content = next(iter(ok["content"].values()))
                assert "example" in content or "schema" in content, (method, path)
    token_form = spec["components"]["schemas"]["Body_sign_in_api_token_post"]["properties"]
    assert set(token_form) == {"username", "password", "otp"}
    app.state.pool.close()
