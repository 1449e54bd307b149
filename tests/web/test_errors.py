"""Bad requests get problem+json with a stable type, never a traceback or a 500."""

from __future__ import annotations

import httpx
import pytest

from strongroom.runtime import open_runtime
from tests.conftest import make_settings
from tests.servers import start_app_server

PROBLEM = "application/problem+json"


def _is_problem(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"/api/v1/problems/{code}"
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body


def test_malformed_json_is_a_400_problem(runtime, http):
    r = http.post(
        "/api/v1/devices", content=b'{"user": "x", ', headers={"content-type": "application/json"}
    )
    _is_problem(r, 400, "malformed-json")


def test_wrong_shape_is_a_422_problem_naming_the_field(runtime, http):
    r = http.post("/api/v1/devices", json={"user": "x"})
    body = _is_problem(r, 422, "invalid-input")
    assert {e["field"] for e in body["errors"]} >= {"password", "name", "platform"}


def test_unknown_route_is_a_404_problem(runtime, http):
    _is_problem(http.get("/api/v1/no/such/thing"), 404, "not-found")
    _is_problem(http.delete("/api/v1/health"), 405, "method-not-allowed")


def test_unknown_page_is_an_html_404(runtime, http):
    r = http.get("/no/such/page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "Back to Strongroom" in r.text


@pytest.mark.parametrize("chunked", [False, True])
def test_oversized_bodies_are_refused_with_413(tmp_path, db_url, chunked):
    rt = open_runtime(make_settings(tmp_path / "data", db_url, max_body_bytes=4096))
    try:
        with start_app_server(rt) as live, httpx.Client(base_url=live.url) as http:
            body = b'{"user": "' + b"x" * 10_000 + b'"}'
            content = iter([body[:5000], body[5000:]]) if chunked else body
            r = http.post(
                "/api/v1/accounts", content=content, headers={"content-type": "application/json"}
            )
            _is_problem(r, 413, "payload-too-large")
            assert http.get("/api/v1/health").status_code == 200
    finally:
        rt.close()


def test_problem_types_document_themselves(runtime, http):
    r = http.get("/api/v1/problems/bad-credentials")
    assert r.status_code == 200
    assert "Wrong user ID or password" in r.json()["title"]
    _is_problem(http.get("/api/v1/problems/no-such-problem"), 404, "not-found")


def test_openapi_document_is_served(runtime, http):
    doc = http.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "Strongroom"
    assert "/api/v1/devices" in doc["paths"] and "/api/v1/health" in doc["paths"]


def test_every_page_and_api_answer_carries_security_headers(runtime, http):
    for path in ["/login", "/api/v1/health", "/static/app.css", "/api/v1/nope"]:
        r = http.get(path)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
    assert "max-age" in http.get("/static/app.css").headers["cache-control"]
