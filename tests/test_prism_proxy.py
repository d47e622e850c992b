"""The mock matches OpenAI's published schemas, checked by an independent validator: Prism.

Prism, in proxy mode in front of the reference mock, validates every response against the
published spec (with its documented errata, conformance/openapi/errata.py) and reports violations in an
``sl-violations`` header. The whole catalog runs through it but the audio features, whose binary
bodies Prism cannot carry (BINARY_PREFIXES: they are validated here, against the same spec), and no
mock response may violate the spec. Prism cannot validate a stream (it reads the SSE body as one
JSON document), so each streamed chunk is validated here against the spec's chunk schema instead,
and each Responses event against the schema of its type.

Needs Prism (npm @stoplight/prism-cli, installed by .ci/run or ../shared/peers/prism.sh) and the spec
in ../shared/data; skips with the reason otherwise. Both servers bind 127.0.0.1 on free ports and
are always stopped.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from conformance.capabilities import mock_models
from conformance.catalog import Feature, load_catalog
from conformance.engine import Engine, RunResult
from conformance.mock.server import MockServer
from conformance.openapi.errata import nullable_to_2020, patched_spec
from conformance.sse import parse_sse
from conformance.target import Secret, Target, Timeouts
from conformance.wire import RecordedExchange
from scripts.extract_spec_schemas import SOURCE as SPEC
from scripts.extract_spec_schemas import load_spec

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
PRISM = Path(os.environ.get("CONFORMANCE_PRISM_BIN", CACHE / "conformance-peers/prism/node_modules/.bin/prism"))
# Prism's proxy is no byte pipe: it parses and keeps each body to validate it, as text, so a WAV
# upload and an audio answer reach the other side with their non-UTF-8 bytes replaced by U+FFFD
# (stoplightio/prism#1321, #2349: seen here as the mock refusing the tone as "not a WAV", and speech
# bytes starting b"RIFF\xef\xbf\xbd"). The audio features run straight against the mock instead, and
# their answers are validated here against the same patched spec: JSON bodies by the operation's
# schema, streamed events by its event-stream schema.
BINARY_PREFIXES = ("audio.", "endpoints.audio.")


def _binary(feature: Feature) -> bool:
    return feature.id.startswith(BINARY_PREFIXES)


# streamed chunks per route, by the spec's schema for them; a Responses event by the member of the
# ResponseStreamEvent union its `type` names, so a violation is reported against that event's schema
CHUNK_SCHEMAS = {
    "/chat/completions": "CreateChatCompletionStreamResponse",
    "/completions": "CreateCompletionResponse",
    "/responses": "ResponseStreamEvent",
}

pytestmark = [
    pytest.mark.skipif(not PRISM.exists(), reason=f"Prism is not installed at {PRISM} (set CONFORMANCE_PRISM_BIN)"),
    pytest.mark.skipif(not SPEC.exists(), reason=f"the published spec is absent ({SPEC})"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return patched_spec(load_spec())


@pytest.fixture(scope="module")
def proxied_run(spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunResult, list]]:
    spec_file = tmp_path_factory.mktemp("prism") / "openapi.json"
    spec_file.write_text(json.dumps(spec, default=str))  # YAML reads some example dates as dates
    with MockServer() as mock:
        port = free_port()
        log = open(spec_file.parent / "prism.log", "w")
        prism = subprocess.Popen(
            [str(PRISM), "proxy", "-h", "127.0.0.1", "-p", str(port), str(spec_file), mock.base_url],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"  # Prism serves the spec's paths at its root
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    httpx.get(base_url + "/models", headers={"authorization": f"Bearer {mock.api_key}"}, timeout=2)
                    break
                except httpx.HTTPError:
                    assert prism.poll() is None, (spec_file.parent / "prism.log").read_text()[-2000:]
                    time.sleep(0.5)
            catalog = load_catalog()
            carried = [feature for feature in catalog if not _binary(feature)]
            yield _recorded_run(base_url, mock.api_key, carried)
        finally:
            prism.terminate()
            try:
                prism.wait(timeout=10)
            except subprocess.TimeoutExpired:
                prism.kill()
            log.close()


@pytest.fixture(scope="module")
def direct_binary_run() -> tuple[RunResult, list[RecordedExchange]]:
    """The features Prism cannot carry (BINARY_PREFIXES), run straight against the mock."""
    with MockServer() as mock:
        return _recorded_run(mock.base_url, mock.api_key, [f for f in load_catalog() if _binary(f)])


def _recorded_run(base_url: str, api_key: str, features: list[Feature]) -> tuple[RunResult, list[RecordedExchange]]:
    seen: list[RecordedExchange] = []
    target = Target(base_url, Secret(api_key), mock_models(), timeouts=Timeouts(read=5.0, total=30.0))
    with Engine(target, load_catalog()) as engine:
        answered = engine.recorder.answered

        def keep(exchange: RecordedExchange) -> None:
            seen.append(exchange)
            answered(exchange)

        engine.recorder.answered = keep  # type: ignore[method-assign]
        return engine.run(features), seen


def _route(exchange: RecordedExchange, base_url: str = "") -> str:
    """The spec's path of an exchange: its URL after the server's base (Prism serves the spec's
    paths at its root, the mock under /v1)."""
    url = exchange.url.split("?")[0]
    return url.removeprefix(base_url) if base_url else "/" + url.split("/", 3)[-1]


def _is_stream(exchange: RecordedExchange) -> bool:
    return (exchange.response_header("content-type") or "").startswith("text/event-stream")


def test_no_mock_response_violates_the_published_spec(proxied_run: tuple[RunResult, list]) -> None:
    run, exchanges = proxied_run
    assert len(exchanges) > len(run.results)  # the whole catalog went through the proxy
    violations = []
    for exchange in exchanges:
        if _is_stream(exchange):
            continue  # Prism reads an SSE body as one JSON document: the chunks are checked below
        for item in _violations(exchange):
            if item.get("location", [""])[0] == "response":
                violations.append(f"{exchange.method} {exchange.url} -> {exchange.status}: {item.get('message')}")
    assert violations == []
    # the validator is awake: the suite's deliberately invalid requests are reported as such
    assert any('"request"' in (e.response_header("sl-violations") or "") for e in exchanges)
    # and it judged what it should: the files, batches, images and moderations features are supported
    # through it (their answers reached the suite whole, so Prism validated the real ones). Verdicts
    # elsewhere are the proxy's, not the mock's: a body that is not JSON, Prism never answers.
    endpoint_areas = {"files", "batches", "images", "moderations"}
    assert {r.outcome.status for r in run.results.values() if r.feature.area in endpoint_areas} == {"supported"}
    answered = {(e.method, _route(e).split("/")[1]) for e in exchanges if e.status == 200}
    assert {("POST", "files"), ("GET", "files"), ("POST", "batches"), ("GET", "batches")} <= answered
    assert {("POST", "images"), ("POST", "moderations"), ("POST", "responses")} <= answered


def test_what_prism_cannot_carry_matches_the_spec(
    direct_binary_run: tuple[RunResult, list[RecordedExchange]], spec: dict[str, Any]
) -> None:
    run, exchanges = direct_binary_run
    assert {fid: r.outcome.status for fid, r in run.results.items() if r.outcome.status != "supported"} == {}
    base = run.target.base_url
    components = nullable_to_2020(spec["components"])
    checked: Counter[str] = Counter()
    problems = []
    for exchange in exchanges:
        route, kind = _route(exchange, base), (exchange.response_header("content-type") or "").split(";")[0]
        if exchange.status != 200 or kind not in ("application/json", "text/event-stream"):
            continue  # refusals are judged by the features; speech bytes are binary in the spec
        answer = nullable_to_2020(spec["paths"][route][exchange.method.lower()]["responses"]["200"]["content"][kind])
        validator = jsonschema.Draft202012Validator({**answer["schema"], "components": components})
        if kind == "text/event-stream":
            bodies = [chunk for _, chunk in parse_sse(bytes(exchange.body)).json_chunks()]
        else:
            bodies = [json.loads(exchange.content())]
        for body in bodies:
            checked[f"{route} {kind}"] += 1
            problems += [f"{route} ({kind}): {e.message[:160]}" for e in validator.iter_errors(body)][:2]
    assert checked["/audio/transcriptions application/json"] >= 2, dict(checked)  # json and verbose_json
    assert checked["/audio/translations application/json"] >= 1, dict(checked)
    assert checked["/audio/speech text/event-stream"] >= 2, dict(checked)  # audio deltas, then done
    assert problems == []


def _violations(exchange: RecordedExchange) -> list[dict[str, Any]]:
    """Prism's ``sl-violations`` header: a JSON list. When it is long (the suite's invalid Responses
    input breaks a dozen request rules at once) Prism prefixes "Too many violations! " and cuts it off
    mid-item, so each whole item is read and the cut one left out."""
    header = (exchange.response_header("sl-violations") or "[]").removeprefix("Too many violations! ")
    decoder, items, at = json.JSONDecoder(), [], header.find("{")
    while at != -1:
        try:
            item, end = decoder.raw_decode(header, at)
        except ValueError:
            break  # the item Prism cut off
        items.append(item)
        at = header.find("{", end)
    return items


def test_every_streamed_chunk_matches_the_spec(proxied_run: tuple[RunResult, list], spec: dict[str, Any]) -> None:
    _, exchanges = proxied_run
    components = nullable_to_2020(spec["components"])
    checked: Counter[str] = Counter()
    problems = []
    for exchange in exchanges:
        route = _route(exchange)
        if not _is_stream(exchange) or exchange.status != 200 or route not in CHUNK_SCHEMAS:
            continue
        for event, chunk in parse_sse(bytes(exchange.body)).json_chunks():
            if isinstance(chunk, dict) and "error" not in chunk:
                name = _event_schema(components, chunk.get("type")) if route == "/responses" else CHUNK_SCHEMAS[route]
                schema = {"$ref": f"#/components/schemas/{name}", "components": components}
                checked[route] += 1
                errors = jsonschema.Draft202012Validator(schema).iter_errors(chunk)
                problems += [f"{route} line {event.line} ({name}): {e.message[:160]}" for e in errors][:2]
    assert checked["/chat/completions"] > 50 and checked["/responses"] > 20, dict(checked)
    assert problems == []


def _event_schema(components: dict[str, Any], event_type: Any) -> str:
    """The member of the spec's ResponseStreamEvent union whose ``type`` is ``event_type``."""
    for member in components["schemas"]["ResponseStreamEvent"]["anyOf"]:
        name = member["$ref"].rsplit("/", 1)[-1]
        if event_type in components["schemas"][name].get("properties", {}).get("type", {}).get("enum", ()):
            return name
    return "ResponseStreamEvent"  # an unknown type: the union's error says so
