"""The API key never leaves for a host other than the target's.

A target that redirects every request to a second local server (another origin: another port)
is run through the whole catalog; the second server records everything it receives, and the key
must appear in none of it. httpx already drops ``Authorization`` across origins; the capturing
transport also removes any other header carrying the key, which the second test pins down.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.catalog import load_catalog
from conformance.cli import preflight
from conformance.engine import Engine
from conformance.target import ConfigError, Secret, Target, same_origin
from conformance.verdict import Status
from conformance.wire import Recorder, WireClient
from tests.conftest import TEST_TIMEOUTS
from tests.scripted import Request, Script, send_json

KEY = "sk-never-elsewhere-4c1d9e"


def _unauthorized(script: Script, request: Request, wfile: Any) -> None:
    error = {"message": "No API key provided.", "type": "invalid_request_error", "param": None, "code": None}
    send_json(wfile, 401, {"error": error})


def _redirect_to(other: Script) -> Any:
    def redirect(script: Script, request: Request, wfile: Any) -> None:
        # 307 keeps a POST and its body (the worst case: everything is re-sent), 302 for the rest
        status = 307 if request.method == "POST" else 302
        location = f"http://127.0.0.1:{other.port}{request.path}"
        wfile.write(f"HTTP/1.1 {status} X\r\nlocation: {location}\r\ncontent-length: 0\r\n\r\n".encode())
        wfile.flush()

    return redirect


def _carries_key(request: Request) -> bool:
    return (
        KEY in request.path or KEY in request.body.decode("latin-1") or any(KEY in v for v in request.headers.values())
    )


def test_a_full_run_never_sends_the_key_to_the_origin_a_redirect_names() -> None:
    catalog = load_catalog()
    with Script({("*", "*"): _unauthorized}) as elsewhere, Script({("*", "*"): _redirect_to(elsewhere)}) as front:
        models = {"chat": "m", "embeddings": "e", "vision": "m", "rate_limited": "r"}
        target = Target(front.base_url, Secret(KEY), models, timeouts=TEST_TIMEOUTS)
        with Engine(target, catalog) as engine:
            run = engine.run()
    assert len(front.requests) > len(catalog) / 2  # the run did reach the target...
    assert any(r.headers.get("authorization") == f"Bearer {KEY}" for r in front.requests)  # ...with the key
    assert len(elsewhere.requests) > len(catalog) / 2  # ...and followed its redirects
    leaked = [f"{r.method} {r.path}" for r in elsewhere.requests if _carries_key(r)]
    assert leaked == []
    # and the report says why nothing works there
    assert run.results["http.redirect.same_origin"].outcome.status is Status.NONCONFORMANT
    assert "another origin" in run.results["chat.basic"].outcome.reason


def test_a_key_in_any_header_is_withheld_from_another_origin() -> None:
    with Script({("*", "*"): _unauthorized}) as elsewhere, Script({("*", "*"): _unauthorized}) as home:
        target = Target(home.base_url, Secret(KEY), {"chat": "m"}, timeouts=TEST_TIMEOUTS)
        recorder = Recorder()
        wire = WireClient(target, recorder)
        try:
            # a vendor-specific header (Azure's api-key) that httpx would happily forward
            foreign = wire.request("GET", "", absolute_url=elsewhere.base_url + "/models", headers={"api-key": KEY})
            local = wire.request("GET", "models", headers={"api-key": KEY})
        finally:
            wire.close()
    assert not _carries_key(elsewhere.requests[0])
    assert home.requests[0].headers["api-key"] == KEY  # the target itself gets what it was sent
    assert home.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert recorder.key_withheld == [f"http://127.0.0.1:{elsewhere.port}"]
    assert "withheld" in (foreign.exchange.note or "") and not local.exchange.note


def test_a_short_key_is_withheld_as_a_token_and_takes_no_other_header_along() -> None:
    # with `--api-key x`, "Linux" and "x64" hold an "x" but not the key: they travel, the key does not
    with Script({("*", "*"): _unauthorized}) as elsewhere, Script({("*", "*"): _unauthorized}) as home:
        recorder = Recorder()
        wire = WireClient(Target(home.base_url, Secret("x"), {"chat": "m"}, timeouts=TEST_TIMEOUTS), recorder)
        try:
            wire.request(
                "GET",
                "",
                absolute_url=elsewhere.base_url + "/models",
                headers={"api-key": "x", "x-platform": "Linux x64"},
            )
        finally:
            wire.close()
    received = elsewhere.requests[0].headers
    assert "authorization" not in received and "api-key" not in received
    assert received["x-platform"] == "Linux x64"
    assert recorder.key_withheld == [f"http://127.0.0.1:{elsewhere.port}"]


def test_same_origin_ignores_default_ports_and_case() -> None:
    assert same_origin("https://API.example.com/v1", "https://api.example.com:443/x")
    assert same_origin("http://h/v1", "http://h:80")
    assert not same_origin("http://h/v1", "https://h/v1")
    assert not same_origin("http://127.0.0.1:8000/v1", "http://localhost:8000/v1")
    assert not same_origin("http://h:8000", "http://h:8001")


def test_preflight_blames_the_key_only_when_the_target_itself_rejects_it() -> None:
    with Script({("*", "*"): _unauthorized}) as elsewhere, Script({("*", "*"): _redirect_to(elsewhere)}) as front:
        moved = WireClient(Target(front.base_url, Secret(KEY), {"chat": "m"}, timeouts=TEST_TIMEOUTS), Recorder())
        rejecting = WireClient(
            Target(elsewhere.base_url, Secret(KEY), {"chat": "m"}, timeouts=TEST_TIMEOUTS), Recorder()
        )
        try:
            preflight(moved)  # 401 after a cross-origin redirect: the checks judge the redirect
            with pytest.raises(ConfigError, match="rejected the API key"):
                preflight(rejecting)
        finally:
            moved.close()
            rejecting.close()
