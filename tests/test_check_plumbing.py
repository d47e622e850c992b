"""The checks' plumbing: shared requests declared in one module and sent once per run, the run log
read through a read-only view, and a "fail here" that cannot return supported."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import openai
import pydantic
import pytest
from openai.types.responses import ResponseStreamEvent

import conformance.checks
from conformance.catalog import load_catalog
from conformance.checks._requests import SHARED_REQUESTS
from conformance.context import CheckContext, RunState, _validation_summary
from conformance.registry import load_checks
from conformance.target import Secret, Target
from conformance.verdict import Findings, Oracle, Status, StopCheck, skipped
from conformance.wire import RecordedExchange, Recorder

CHECKS = Path(conformance.checks.__file__).resolve().parent
# what only the context itself touches: the memo behind @shared_request, and the recorder
PLUMBING = {"shared", "recorder", "scope", "_recorder", "_scope", "_state", "state"}


def _context(recorder: Recorder, state: RunState) -> CheckContext:
    target = Target("http://127.0.0.1:9/v1", Secret("sk-plumbing"), {"chat": "m"})
    return CheckContext(load_catalog()["chat.basic"], target, recorder, None, state, recorder.begin_scope())  # type: ignore[arg-type]


def test_no_check_module_shares_a_request_or_reads_the_recorder_by_hand() -> None:
    touched = [
        f"{path.name}:{node.lineno} .{node.attr}"
        for path in sorted(CHECKS.glob("*.py"))
        if path.name != "_requests.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in PLUMBING
    ]
    assert touched == []


def test_every_shared_request_is_declared_in_one_module_and_says_what_it_sends() -> None:
    load_checks()
    assert len(SHARED_REQUESTS) >= 11
    for request in SHARED_REQUESTS:
        assert request.__module__ == "conformance.checks._requests", request.__name__
        assert request.__doc__ and ("POST" in request.__doc__ or "GET" in request.__doc__), request.__name__


def test_a_shared_request_is_sent_once_per_run_and_its_failure_is_shared_too() -> None:
    recorder, state = Recorder(), RunState()
    sent: list[int] = []

    def send(ctx: CheckContext) -> int:
        sent.append(1)
        raise StopCheck(skipped("nothing to judge"))

    for _ in range(3):
        with pytest.raises(StopCheck):
            _context(recorder, state).shared(send)
    assert sent == [1]


def test_the_run_log_is_read_through_snapshots_not_the_recorders_lists() -> None:
    recorder = Recorder()
    ctx = _context(recorder, RunState())
    limited = RecordedExchange("POST", "http://127.0.0.1:9/v1/chat/completions", [], b"", 0.0, status=429)
    recorder.answered(limited)
    assert ctx.observed.rate_limits == (limited,)
    assert isinstance(ctx.observed.redirects, tuple) and isinstance(ctx.observed.key_withheld, tuple)
    assert ctx.observed.exchanges_so_far == ()


def test_fail_here_never_returns_supported() -> None:
    with pytest.raises(RuntimeError, match="no problem recorded"):
        Findings().fail()
    findings = Findings()
    findings.add(Oracle.WIRE, "status: received 200, expected 400")
    assert findings.fail().status is Status.NONCONFORMANT
    assert findings.outcome("never used", Oracle.WIRE).status is Status.NONCONFORMANT


def test_a_stream_event_the_sdk_rejects_is_explained_by_the_member_its_type_names() -> None:
    """The SDK's event union fails on every member; the summary shows the one the event's type names."""
    event = {"type": "response.output_text.delta", "sequence_number": 3, "delta": "Hi"}  # no item_id, indexes
    with pytest.raises(pydantic.ValidationError) as raised:
        pydantic.TypeAdapter(ResponseStreamEvent).validate_python(event)
    request = httpx.Request("POST", "http://127.0.0.1/v1/responses")
    exc = openai.APIResponseValidationError(response=httpx.Response(200, request=request), body=event)
    exc.__cause__ = raised.value
    summary = _validation_summary(exc)
    assert summary.startswith("ResponseTextDeltaEvent.") and "item_id: Field required" in summary
    assert "Audio" not in summary
