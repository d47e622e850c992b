"""The strict reading: OpenAI's published schemas over the evidence a run already has.

The shipped schemas are pinned to the spec file they came from (and regenerate to the same bytes
when it is present); the oracle maps each recorded exchange to the spec's operation and judges its
body, its chunks or its error envelope; the clean mock is supported in both readings; a finding
only the strict reading makes fails the strict gate and never the compatible one, in the CLI and
in the pytest plugin alike; a stored results.json can be judged again offline.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conformance.catalog import load_catalog
from conformance.cli import main
from conformance.document import build_results, judge_document, with_strict_findings
from conformance.engine import RunResult
from conformance.openapi.errata import ERRATA, nullable_to_2020
from conformance.openapi.published import SPEC_PATH, judge_evidence, judge_exchange, operation_for, spec_source
from conformance.policy import Reading, gate_of, judgement_of, reading_status
from conformance.report.badge import badge_value
from conformance.report.results import validate_results
from conformance.verdict import Status
from scripts.extract_spec_schemas import SOURCE, dumps, extract, load_spec, sha256_of

BASE = "https://api.vendor.example/v1"
ROOT = Path(__file__).resolve().parent.parent


def completion(**choice: Any) -> dict[str, Any]:
    message = {"role": "assistant", "content": "Hello.", "refusal": None}
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "m",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
    }
    body["choices"][0].update(choice)
    return body


def exchange(method: str, path: str, status: int, body: Any = None, **response: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {"status": status, "headers": {"content-type": "application/json"}, **response}
    if body is not None:
        answer["body"] = body
    return {"request": {"method": method, "url": BASE + path, "headers": {}}, "response": answer}


def stream(chunks: list[dict[str, Any]]) -> dict[str, Any]:
    lines = [line for chunk in chunks for line in (f"data: {json.dumps(chunk)}", "")] + ["data: [DONE]", ""]
    return exchange("POST", "/chat/completions", 200, headers={"content-type": "text/event-stream"}, sse=lines)


def chunk(**choice: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": "Hi"}, **choice}],
    }


def messages(evidence: list[dict[str, Any]]) -> list[str]:
    return [problem.message for problem in judge_evidence(evidence, BASE)]


# --- the shipped schemas and their pin ------------------------------------------------------------


def test_the_shipped_schemas_name_their_source_and_errata() -> None:
    source = spec_source()
    assert re.fullmatch(r"[0-9a-f]{64}", source["sha256"])
    assert source["file"] == "openai-openapi.yml" and source["version"] == "2.3.0"
    assert source["openapi"].startswith("3.1")
    shipped = json.loads(SPEC_PATH.read_text())
    assert [(e["what"], e["source"]) for e in shipped["errata"]] == list(ERRATA)  # one list of errata
    assert "nullable" not in json.dumps(shipped["$defs"])  # converted to 2020-12 types
    # only what the oracle judges: nothing of the request schemas the spec also holds
    assert "CreateChatCompletionRequest" not in shipped["$defs"] and len(SPEC_PATH.read_bytes()) < 400_000


@pytest.mark.skipif(not SOURCE.exists(), reason=f"the published spec is absent ({SOURCE}): the pin is not recomputed")
def test_the_shipped_schemas_regenerate_from_the_pinned_spec() -> None:
    assert sha256_of(SOURCE) == spec_source()["sha256"], "the spec changed: run scripts/extract_spec_schemas.py"
    regenerated = dumps(extract(load_spec(SOURCE), sha256_of(SOURCE), SOURCE.name))
    assert regenerated == SPEC_PATH.read_text(encoding="utf-8")


def test_every_endpoint_the_catalog_calls_has_its_operation() -> None:
    # the HTTP area probes wrong routes, methods and base URLs on purpose: no operation of the spec
    for feature in load_catalog().features.values():
        if feature.area == "http":
            continue
        for method, path, streamed in re.findall(r"\b(GET|POST) (/[\w/{}.]+)( \(stream\))?", feature.endpoint):
            operation = operation_for(method, BASE + re.sub(r"\{\w+\}", "x", path), BASE)
            assert operation is not None, f"{feature.id}: {method} {path}"
            assert operation.stream is not None or not streamed, f"{feature.id}: {method} {path} streamed"


def test_nullable_becomes_a_2020_type() -> None:
    assert nullable_to_2020({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert nullable_to_2020({"enum": ["a"], "type": "string", "nullable": True})["enum"] == ["a", None]
    assert nullable_to_2020({"$ref": "#/x", "nullable": True}) == {"anyOf": [{"$ref": "#/x"}, {"type": "null"}]}
    # a property named "nullable" is a property, not the keyword
    assert nullable_to_2020({"properties": {"nullable": {"type": "boolean"}}}) == {
        "properties": {"nullable": {"type": "boolean"}}
    }


# --- the oracle -------------------------------------------------------------------------------------


def test_a_faithful_completion_and_stream_have_no_finding() -> None:
    final = chunk(finish_reason="stop")
    assert (
        messages([exchange("POST", "/chat/completions", 200, completion()), stream([chunk(finish_reason=None), final])])
        == []
    )


def test_required_nullable_keys_left_out_are_findings() -> None:
    body = completion()
    del body["choices"][0]["logprobs"], body["choices"][0]["message"]["refusal"]
    assert messages([exchange("POST", "/chat/completions", 200, body)]) == [
        "POST /chat/completions → 200: CreateChatCompletionResponse $.choices[0]: 'logprobs' is a required property",
        "POST /chat/completions → 200: CreateChatCompletionResponse $.choices[0].message: "
        "'refusal' is a required property",
    ]


def test_a_chunk_without_finish_reason_is_one_finding_with_a_count() -> None:
    found = messages([stream([chunk(), chunk(), chunk(finish_reason="stop")])])
    assert found == [
        "POST /chat/completions → 200, 2 of 3 chunks from chunk 1: CreateChatCompletionStreamResponse "
        "$.choices[0]: 'finish_reason' is a required property"
    ]


def test_what_the_spec_allows_is_left_to_the_probes() -> None:
    # `content: ""` beside tool_calls: the message's content is a string or null, and "" is a string;
    # `system_fingerprint: ""`: a string the spec does not constrain (and no longer requires)
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    body = completion(finish_reason="tool_calls")
    body["choices"][0]["message"].update(content="", tool_calls=[call])
    body["system_fingerprint"] = ""
    assert messages([exchange("POST", "/chat/completions", 200, body)]) == []


def test_error_answers_are_judged_against_the_error_envelope() -> None:
    flat = {"error": {"message": "no such model", "type": "invalid_request_error"}}
    found = messages([exchange("GET", "/models/nope", 404, flat)])
    assert found == [
        "GET /models/{model} → 404: ErrorResponse $.error: 'param' is a required property",
        "GET /models/{model} → 404: ErrorResponse $.error: 'code' is a required property",
    ]
    # a streamed request refused with one JSON document: the same envelope
    lines = json.dumps({"error": "bad"}).splitlines()
    refused = exchange("POST", "/chat/completions", 400, sse=lines)
    assert messages([refused]) == ["POST /chat/completions → 400: ErrorResponse $.error: 'bad' is not of type 'object'"]


def test_what_the_spec_has_no_operation_for_is_not_judged() -> None:
    broken = {"nothing": "like the spec"}
    for path, method in [("/conformance-no-such-route", "GET"), ("/chat/completions/", "POST")]:
        assert judge_exchange(exchange(method, path, 200, broken), BASE) == []
    assert judge_exchange(exchange("PUT", "/chat/completions", 405, broken), BASE) == []
    elsewhere = exchange("GET", "/models", 200, broken)
    elsewhere["request"]["url"] = "https://api.vendor.example/models"  # outside the base URL
    assert judge_exchange(elsewhere, BASE) == []
    truncated = exchange("GET", "/models", 200, broken, truncated=True, body_bytes=10**6)
    assert judge_exchange(truncated, BASE) == []
    assert judge_exchange(exchange("POST", "/audio/speech", 200, body_text="RIFF..."), BASE) == []


def test_model_ids_map_to_the_retrieve_operation_in_every_form() -> None:
    for path in ("/models/m", "/models/org%2Fm", "/models/org/m"):
        operation = operation_for("GET", BASE + path, BASE)
        assert operation is not None and operation.path == "/models/{model}", path
    listing = operation_for("GET", BASE + "/models?limit=2", BASE)
    assert listing is not None and listing.path == "/models"


def test_findings_are_capped_per_feature() -> None:
    bodies = [exchange("POST", "/chat/completions", 200, {"choices": [{}] * 20}) for _ in range(2)]
    found = messages(bodies)
    assert len(found) == 9 and found[-1].startswith("... and ")


# --- a run in both readings ---------------------------------------------------------------------------


def test_the_clean_mock_is_supported_in_both_readings(clean_run: RunResult) -> None:
    results = build_results(clean_run, load_catalog())
    validate_results(results)
    not_strict = {
        feature_id: feature["readings"]["strict"]["problems"]
        for feature_id, feature in results["features"].items()
        if feature["readings"]["strict"]["status"] != Status.SUPPORTED.value
    }
    assert not_strict == {}
    for reading in Reading:
        assert results["readings"][reading.value]["summary"]["supported"] == len(results["features"])
        assert results["readings"][reading.value]["certified"] is True
    assert results["readings"]["strict"]["beyond_compatible"] == []
    assert results["readings"]["strict"]["oracle"]["sha256"] == spec_source()["sha256"]
    assert results["gate"]["reading"] == "compatible"


def run_cli(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "-".join(a.strip("-") for a in args if a.startswith("--"))
    code = main(["run", "--out", str(out), "--quiet", *args])
    return code, json.loads((out / "results.json").read_text())


def test_strict_only_findings_fail_the_strict_gate_and_never_the_compatible_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quirk = ["--mock-quirk", "strict.message_refusal_absent", "--select", "chat.basic", "chat.stream.finish_reason"]
    code, compatible = run_cli(tmp_path, *quirk)
    # a run of two features passes the gate but is partial, never certified (the whole catalog certifies)
    assert code == 0 and compatible["certified"] is False and compatible["gate"]["reading"] == "compatible"
    assert compatible["certification"]["state"] == "partial"
    assert compatible["readings"]["strict"]["beyond_compatible"] == ["chat.basic"]
    assert compatible["readings"]["strict"]["certified"] is False
    assert "strict reading (OpenAI's published schemas): 1 more finding(s), not gating" in capsys.readouterr().out

    code, strict = run_cli(tmp_path, *quirk, "--gate", "strict")
    assert code == 1 and strict["certified"] is False and strict["gate"]["reading"] == "strict"
    assert strict["gate"]["failures"] == ["chat.basic: nonconformant to OpenAI's published schemas (strict reading)"]
    basic = strict["features"]["chat.basic"]
    assert basic["status"] == "supported"  # the contract's status is the compatible one, whatever the gate
    assert basic["readings"]["strict"]["status"] == "nonconformant"
    assert "'refusal' is a required property" in basic["readings"]["strict"]["problems"][0]["message"]
    assert basic["judgement"] == basic["readings"]["strict"]["judgement"]
    assert badge_value(strict) == "partial (strict) · 1/2"
    junit = ET.parse(tmp_path / "mock-quirk-select-gate" / "junit.xml")
    case = next(c for c in junit.iter("testcase") if c.get("name") == "chat.basic")
    failure = case.find("failure")
    assert failure is not None and "strict: POST /chat/completions" in (failure.text or "")
    out = capsys.readouterr().out
    assert "CI gate (strict reading): fails, 1 reason(s)" in out
    assert "features (--select chat.basic chat.stream.finish_reason), not certified (strict reading)" in out


def test_the_plugin_gates_on_the_chosen_reading(tmp_path: Path) -> None:
    def pytest_checks(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pytest", "--pyargs", "conformance.checks", "-p", "no:cacheprovider", "-q"]
        command += ["--conformance-mock-quirk", "strict.chunk_finish_reason_absent", "-k", "chat.stream.finish_reason"]
        return subprocess.run([*command, *args], capture_output=True, text=True, timeout=180, cwd=tmp_path)

    assert pytest_checks().returncode == 0
    done = pytest_checks("--conformance-gate", "strict", "--conformance-out", str(tmp_path / "out"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "nonconformant to OpenAI's published schemas (strict reading)" in done.stdout
    assert "[strict] POST /chat/completions → 200" in done.stdout
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["gate"]["reading"] == "strict" and results["gate"]["passes"] is False


# --- results.json judged again, offline ---------------------------------------------------------------

PEERS = sorted((ROOT / "reports" / "peers").glob("*/results.json"))


@pytest.mark.skipif(not PEERS, reason="no reports/peers/<peer>/results.json")
@pytest.mark.parametrize("path", PEERS, ids=[p.parent.name for p in PEERS])
def test_a_stored_run_judged_again_keeps_its_compatible_verdicts(path: Path) -> None:
    stored = json.loads(path.read_text(encoding="utf-8"))
    judged = judge_document(with_strict_findings(stored), None, dt.date(2026, 11, 30))
    validate_results(judged)
    for feature_id, feature in judged["features"].items():
        compatible, strict = (reading_status(feature, r) for r in (Reading.COMPATIBLE, Reading.STRICT))
        assert compatible.value == stored["features"][feature_id]["status"]
        assert strict is compatible or strict is Status.NONCONFORMANT, feature_id  # never better
    assert gate_of(judged, Reading.COMPATIBLE).failures == gate_of(judged).failures
    strict_gate = gate_of(judged, Reading.STRICT)
    assert set(judged["readings"]["strict"]["beyond_compatible"]) <= {f.split(":")[0] for f in strict_gate.failures}


def test_a_document_older_than_readings_reads_as_compatible() -> None:
    old = {
        "status": "supported",
        "level": "required",
        "judgement": {"disposition": "pass", "why": "supported", "blocks_certification": False},
    }
    assert reading_status(old, Reading.STRICT) is Status.SUPPORTED
    assert judgement_of(old, Reading.COMPATIBLE).why == "supported"
    changed = copy.deepcopy(old)
    changed["readings"] = {"strict": {"status": "nonconformant"}}
    assert judgement_of(changed, Reading.STRICT).why == "nonconformant to OpenAI's published schemas (strict reading)"


# --- from the wire: what the compatible reading let through on real servers -------------------------

WIRE = ROOT / "tests" / "wire"


def test_litellms_recorded_completion_breaks_only_the_strict_reading() -> None:
    # the SDK parses it (chat.basic is supported against LiteLLM), but OpenAI's schema requires both keys
    body = json.loads((WIRE / "litellm-chat-completion.json").read_text())
    assert messages([exchange("POST", "/chat/completions", 200, body)]) == [
        "POST /chat/completions → 200: CreateChatCompletionResponse $.choices[0]: 'logprobs' is a required property",
        "POST /chat/completions → 200: CreateChatCompletionResponse $.choices[0].message: "
        "'refusal' is a required property",
    ]


def test_llama_cpps_recorded_stream_raises_no_false_strict_finding() -> None:
    # a real server's stream that keeps every required key (finish_reason and logprobs as null):
    # the chunk schema must accept all of it, chunk by chunk
    lines = json.loads((WIRE / "llamacpp-chat-stream.json").read_text())["sse"]
    chunks = [json.loads(line.removeprefix("data: ")) for line in lines if line.startswith("data: {")]
    assert len(chunks) > 3
    assert messages([stream(chunks)]) == []
    del chunks[1]["choices"][0]["finish_reason"]  # and one omission is found in those same bytes
    assert messages([stream(chunks)]) == [
        "POST /chat/completions → 200, chunk 2 of 11: CreateChatCompletionStreamResponse $.choices[0]: "
        "'finish_reason' is a required property"
    ]
