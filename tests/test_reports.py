"""Every output format is a pure function of results.json, pinned by snapshots."""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from typing import Any

import jsonschema
import pytest

from conformance.report import write_reports
from conformance.report.console import render_summary
from conformance.report.junit import render_junit
from conformance.report.markdown import render_matrix
from conformance.report.results import exit_code, is_certified, validate_results

EXCHANGE = {
    "request": {
        "method": "POST",
        "url": "https://api.vendor.example/v1/chat/completions",
        "headers": {"authorization": "Bearer ***"},
        "body": {"model": "m", "n": 2},
    },
    "response": {
        "status": 400,
        "headers": {"content-type": "application/json"},
        "body": {"error": {"message": "n must be 1", "type": "invalid_request_error", "param": "n", "code": None}},
    },
}


def feature(status: str, level: str, area: str, reason: str, **extra: Any) -> dict[str, Any]:
    entry = {
        "status": status,
        "level": level,
        "title": f"Title of {reason[:10]}",
        "area": area,
        "endpoint": "POST /chat/completions",
        "oracle": "wire" if status != "skipped" else None,
        "reason": reason,
        "duration_s": 0.01,
        "evidence": [EXCHANGE] if status in ("nonconformant", "unsupported") else [],
    }
    entry.update(extra)
    return entry


@pytest.fixture
def results() -> dict[str, Any]:
    return {
        "schema_version": 1,
        "tool": {"name": "openai-conformance", "version": "0.1.0"},
        "sdk": {"package": "openai", "version": "3.54.0"},
        "target": {"base_url": "https://api.vendor.example/v1", "models": {"chat": "vendor/chat-1"}, "name": "Vendor"},
        "started_at": "2026-11-22T10:00:00Z",
        "duration_s": 4.2,
        "requests": 31,
        "completion_tokens_requested": 211,
        "summary": {"supported": 2, "unsupported": 1, "nonconformant": 1, "skipped": 1, "error": 1},
        "certified": False,
        "areas": {"chat": "Chat completions", "streaming": "Streaming (SSE)"},
        "features": {
            "chat.basic": feature(
                "supported",
                "required",
                "chat",
                "parses in the strict SDK",
                notes=["vendor extension fields on the completion: x_vendor"],
            ),
            "chat.n": feature(
                "unsupported", "optional", "chat", "declined: 400 invalid_request_error param=n: n must be 1"
            ),
            "chat.stream.done_sentinel": feature(
                "nonconformant",
                "required",
                "streaming",
                "the stream ends without `data: [DONE]` | pipe",
                problems=[{"oracle": "wire", "message": "the stream ends without `data: [DONE]`"}],
            ),
            "chat.stream.include_usage": feature("supported", "recommended", "streaming", "one usage chunk"),
            "embeddings.basic": feature("skipped", "required", "embeddings", "no embeddings model configured"),
            "chat.usage": feature("error", "required", "chat", "could not connect to the target"),
        },
    }


def test_the_hand_made_results_are_valid(results: dict[str, Any]) -> None:
    validate_results(results)


def test_matrix_markdown(results: dict[str, Any], snapshot) -> None:  # type: ignore[no-untyped-def]
    assert render_matrix(results) == snapshot


def test_junit_xml(results: dict[str, Any], snapshot) -> None:  # type: ignore[no-untyped-def]
    text = render_junit(results)
    assert text == snapshot
    cases = {case.get("name"): case for case in ET.fromstring(text).iter("testcase")}
    assert len(cases) == len(results["features"])
    assert cases["chat.stream.done_sentinel"].find("failure") is not None
    assert cases["chat.n"].find("skipped") is not None  # unsupported, not required
    assert cases["chat.usage"].find("error") is not None
    assert cases["chat.basic"].get("classname") == "chat"


def test_console_summary(results: dict[str, Any], snapshot) -> None:  # type: ignore[no-untyped-def]
    assert render_summary(results, width=100) == snapshot


def test_certification_and_exit_code_rules(results: dict[str, Any]) -> None:
    assert exit_code(results) == 1 and not is_certified(results["features"])
    fixed = copy.deepcopy(results)
    fixed["features"]["chat.stream.done_sentinel"]["status"] = "supported"
    assert exit_code(fixed) == 0  # contract: only nonconformant / required unsupported fail the exit code
    assert not is_certified(fixed["features"])  # ...but an undecided required feature is never a pass
    fixed["features"]["chat.usage"]["status"] = "supported"
    assert is_certified(fixed["features"])
    fixed["features"]["chat.n"]["level"] = "required"
    assert exit_code(fixed) == 1


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r["features"]["chat.stream.done_sentinel"].update(evidence=[]),  # failing without evidence
        lambda r: r["features"]["chat.basic"].update(status="passed"),
        lambda r: r.pop("summary"),
        lambda r: r["sdk"].update(package="other"),
        lambda r: r["features"].update({"Bad ID": r["features"]["chat.basic"]}),
    ],
)
def test_the_schema_rejects_broken_results(results: dict[str, Any], mutate) -> None:  # type: ignore[no-untyped-def]
    mutate(results)
    with pytest.raises(jsonschema.ValidationError):
        validate_results(results)


def test_write_reports_writes_the_three_files(results: dict[str, Any], tmp_path) -> None:  # type: ignore[no-untyped-def]
    written = write_reports(results, tmp_path / "out")
    assert sorted(p.name for p in written) == ["junit.xml", "matrix.md", "results.json"]
