"""A hostile server gets a report, never a hang, a traceback or the key.

Each mode of :mod:`tests.hostile` (endless stream, drip, stalled headers, huge body, redirect loop,
redirect to another origin, garbage, truncated body, reset) answers every route. The command runs
exactly as a vendor would run it, with the default settings: it must finish within two minutes,
write ``results.json`` with a status for every feature, print no traceback, and leave the API key
in no report and at no other origin.

Then the byte level, in process: garbage, a valid chat completion cut at any offset, any status line
and headers. Whatever the bytes, every feature gets a verdict and none is a traceback in the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.catalog import load_catalog
from conformance.engine import Engine
from conformance.target import Secret, Target, Timeouts
from conformance.verdict import Status
from tests.hostile import MODES, HostileServer, answer_bytes, completion, response_bytes
from tests.scripted import Request, Script

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-hostile-test-key-0123456789"
# what a vendor may wait for a default run against a server that never answers properly
RUN_LIMIT_S = 120.0
# past the limit the run is killed, so that a hang fails this test instead of the whole session
KILL_AFTER_S = RUN_LIMIT_S + 30.0
STATUSES = {status.value for status in Status}


def _cli_run(server: HostileServer, out: Path) -> tuple[int | None, float, str, str]:
    """``conformance run`` against ``server`` with the defaults: exit code (None: killed), seconds, stdout, stderr."""
    command = [
        *(sys.executable, "-m", "conformance", "run"),
        *("--base-url", server.base_url, "--api-key", KEY, "--model", "m", "--out", str(out)),
    ]
    # the environment must not choose another target, key or model for the command
    environment = {name: value for name, value in os.environ.items() if not name.startswith("OPENAI_")}
    started = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=KILL_AFTER_S, cwd=ROOT, env=environment)
    except subprocess.TimeoutExpired as killed:
        return None, time.monotonic() - started, _text(killed.stdout), _text(killed.stderr)
    return done.returncode, time.monotonic() - started, done.stdout, done.stderr


def _text(output: str | bytes | None) -> str:
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def _carries_key(request: Request) -> bool:
    return (
        KEY in request.path or KEY in request.body.decode("latin-1") or any(KEY in v for v in request.headers.values())
    )


# The modes that end only when the run recognises the target as stalling: 20 to 40 s of real
# timeouts each, which the SDK line cannot change (the transport and the engine judge them).
WAITING = {"endless_stream", "drip", "stalled_headers"}


@pytest.mark.parametrize("mode", [pytest.param(m, marks=[pytest.mark.waits] if m in WAITING else []) for m in MODES])
def test_a_default_run_against_a_hostile_server_ends_with_a_report(mode: str, tmp_path: Path) -> None:
    with HostileServer(mode) as server:
        code, seconds, stdout, stderr = _cli_run(server, tmp_path)
        elsewhere = list(server.elsewhere.requests) if server.elsewhere is not None else []
    exit_code = "none (killed)" if code is None else code
    said = f"{mode}: exit {exit_code} after {seconds:.1f} s; stderr ends: {stderr[-600:]!r}"
    assert code is not None and seconds < RUN_LIMIT_S, said
    assert "Traceback" not in stderr and "Traceback" not in stdout, said
    results = tmp_path / "results.json"
    assert results.is_file(), said
    features = json.loads(results.read_text())["features"]
    assert set(features) == set(load_catalog().features), said
    without = [feature_id for feature_id, feature in features.items() if feature.get("status") not in STATUSES]
    assert without == [], said
    for path in tmp_path.rglob("*"):
        assert not path.is_file() or KEY not in path.read_text(errors="replace"), f"the key is in {path.name}"
    assert KEY not in stdout and KEY not in stderr
    if mode == "redirect_elsewhere":
        assert elsewhere, "the run never followed a redirect to the other origin"
        assert [f"{r.method} {r.path}" for r in elsewhere if _carries_key(r)] == []


# --- the byte level, in process ---------------------------------------------------------------------

FEATURE_IDS = ["models.list", "chat.basic", "chat.stream.done_sentinel"]
# short bounds: a byte-level answer is complete (the server closes after it), so none is reached
BYTE_LEVEL_TIMEOUTS = Timeouts(connect=1.0, read=0.5, total=2.0, max_body_bytes=256 * 1024)
BYTE_LEVEL = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])

COMPLETION = response_bytes(200, "application/json", json.dumps(completion("m")).encode())
# statuses a server may send; 429 is left out, since the transport would wait its back-off out (seconds)
status_codes = st.integers(min_value=100, max_value=999).filter(lambda status: status != 429)
header_names = st.one_of(
    st.sampled_from(["content-type", "content-length", "transfer-encoding", "content-encoding", "connection"]),
    st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"), min_size=1),
)
header_values = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=40)
# where a redirect may point: odd, broken or refused, and never off this machine
locations = st.sampled_from(
    ["", "/v1/models", "v1", "http://127.0.0.1:1/v1/models", "//127.0.0.1:1/x", "ftp://127.0.0.1/x", "http://[::1"]
)


def _judged(payload: bytes, script: Script, answer: list[bytes]) -> None:
    """Every feature gets a status from ``payload`` as the server's answer, and none a traceback in the suite."""
    answer[0] = payload
    catalog = load_catalog()
    target = Target(script.base_url, Secret(KEY), {"chat": "m"}, timeouts=BYTE_LEVEL_TIMEOUTS)
    with Engine(target, catalog) as engine:
        run = engine.run([catalog[feature_id] for feature_id in FEATURE_IDS])
    assert set(run.results) == set(FEATURE_IDS)
    for feature_id, result in run.results.items():
        outcome = result.outcome
        assert isinstance(outcome.status, Status), feature_id
        assert not outcome.reason.startswith("harness error in"), f"{feature_id}: {outcome.reason}"


def _against(strategy: st.SearchStrategy[bytes]) -> Callable[[], None]:
    """A test that answers every request with each example of ``strategy`` (one server for all of them)."""

    def test() -> None:
        answer = [b""]

        def route(script: Script, request: Request, wfile: Any) -> None:
            answer_bytes(answer[0])(script, request, wfile)

        with Script({("*", "*"): route}) as script:

            @BYTE_LEVEL
            @given(strategy)
            def judged(payload: bytes) -> None:
                _judged(payload, script, answer)

            judged()

    return test


test_garbage_bytes_get_a_verdict = _against(st.binary(max_size=2048))

test_a_chat_completion_cut_anywhere_gets_a_verdict = _against(
    st.integers(min_value=0, max_value=len(COMPLETION) - 1).map(lambda offset: COMPLETION[:offset])
)


@st.composite
def any_head(draw: st.DrawFn) -> bytes:
    """A status line and headers as a server might send them, right or wrong, then a chat completion."""
    version = draw(st.sampled_from(["HTTP/1.1", "HTTP/1.0", "HTTP/2", "HTTP/1.1 ", "", "ICY"]))
    status = draw(st.one_of(status_codes.map(str), st.text(max_size=5)))
    reason = draw(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=20))
    headers = draw(st.lists(st.tuples(header_names, header_values), max_size=6))
    if draw(st.booleans()):
        headers.insert(draw(st.integers(0, len(headers))), ("location", draw(locations)))
    body = json.dumps(completion("m")).encode()
    head = f"{version} {status} {reason}\r\n" + "".join(f"{name}: {value}\r\n" for name, value in headers)
    return head.encode("latin-1", errors="replace") + b"\r\n" + body


test_any_status_line_and_headers_get_a_verdict = _against(any_head())
