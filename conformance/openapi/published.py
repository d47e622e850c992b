"""The strict oracle: recorded evidence judged against OpenAI's published OpenAPI schemas.

The compatible reading asks what the pinned SDK and common clients need; the strict reading also
asks what OpenAI's published spec says. The schemas come from ``schemas/openai-spec.json``
(extracted by ``scripts/extract_spec_schemas.py`` from the spec file whose sha256 it records, with
the errata of :mod:`conformance.openapi.errata` applied). Where the SDK's models make a key
optional, the spec often makes it required and nullable: a choice without ``logprobs``, a message
without ``refusal``, a chunk that omits ``finish_reason`` instead of sending null. The SDK reads all
three; the spec does not allow them.

Nothing here sends a request: it reads the exchanges a run already recorded, as they appear in
``results.json`` (``evidence``), so a stored document can be judged again offline. Each exchange is
mapped by method and path (relative to the target's base URL) to an operation of the spec: a 2xx
JSON body is judged against the operation's response schema, each streamed chunk against its chunk
schema, a 4xx/5xx body against its error schema. Exchanges to other routes (unknown routes, the
base-URL variants the HTTP checks probe), bodies that are not JSON and truncated bodies are not judged.

Depends on :mod:`conformance.sse` and jsonschema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from conformance.catalog import path_pattern
from conformance.sse import parse_sse

SPEC_PATH = Path(__file__).resolve().parent.parent / "schemas" / "openai-spec.json"
MAX_REPORTED = 8  # problems per feature; the rest are counted
MESSAGE_CHARS = 200


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # the spec's template: /models/{model}
    body: dict[str, Any] | None  # the 2xx JSON answer's schema (None: not JSON, such as speech audio)
    stream: dict[str, Any] | None  # each streamed chunk's schema (None: the catalog does not stream it)
    errors: Mapping[str, dict[str, Any]]  # "429", "default": the error answers' schemas

    def error_schema(self, status: int) -> dict[str, Any] | None:
        return self.errors.get(str(status)) or self.errors.get("default")


@dataclass(frozen=True)
class SpecProblem:
    """One way an exchange breaks the published schema: which schema, and where."""

    schema: str
    # "POST /chat/completions → 200: CreateChatCompletionResponse $.choices[0]: 'logprobs' is a required property"
    message: str

    def to_json(self) -> dict[str, str]:
        return {"schema": self.schema, "message": self.message}


@cache
def spec_document() -> dict[str, Any]:
    return dict(json.loads(SPEC_PATH.read_text(encoding="utf-8")))


def spec_source() -> dict[str, Any]:
    """The pin: the source file's name and sha256, the spec's OpenAPI and API versions."""
    return dict(spec_document()["source"])


@cache
def operations() -> tuple[Operation, ...]:
    return tuple(
        Operation(op["method"], op["path"], op["body"], op["stream"], op["errors"])
        for op in spec_document()["operations"]
    )


@cache
def _templates() -> tuple[tuple[re.Pattern[str], Operation], ...]:
    # a parameter is one path segment; an id with a slash (`org/model`) is tried as the last parameter
    exact = [(path_pattern(op.path), op) for op in operations()]
    greedy = [(path_pattern(op.path, ".+"), op) for op in operations() if op.path.endswith("}")]
    return tuple(exact + greedy)


def operation_for(method: str, url: str, base_url: str) -> Operation | None:
    """The spec's operation a request went to, or None (another route, or outside the base URL)."""
    base = urlsplit(base_url.rstrip("/"))
    parts = urlsplit(url)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(base.path + "/"):
        return None
    path = parts.path[len(base.path) :]  # as sent: an escaped slash (%2F) stays inside its segment
    for pattern, operation in _templates():
        if operation.method == method.upper() and pattern.match(path):
            return operation
    return None


@cache
def _validator(schema_json: str) -> jsonschema.Draft202012Validator:
    schema = {**json.loads(schema_json), "$defs": spec_document()["$defs"]}
    return jsonschema.Draft202012Validator(schema)


def schema_name(schema: Mapping[str, Any]) -> str:
    ref = schema.get("$ref")
    return str(ref).rsplit("/", 1)[-1] if ref else "inline schema"


def _where(error: jsonschema.ValidationError) -> str:
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def most_specific(error: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For anyOf/oneOf failures, the most specific cause rather than 'is not valid under any'.

    A union of typed objects (output items, stream events) is tagged by ``type``: the branches whose
    ``type`` the value does not carry say nothing about it, so the cause is sought among the others
    (a message part missing ``logprobs``, not a file-search call missing ``queries``)."""
    if not error.context:
        return error
    branches: dict[Any, list[jsonschema.ValidationError]] = {}
    for cause in error.context:
        branches.setdefault(cause.schema_path[0] if cause.schema_path else None, []).append(cause)
    tagged_otherwise = {  # another tag, or another kind of value altogether (the `null` of a nullable)
        branch
        for branch, causes in branches.items()
        if any(
            (c.validator in ("const", "enum") and list(c.relative_path) == ["type"])
            or (c.validator == "type" and not c.relative_path)
            for c in causes
        )
    }
    candidates = [c for branch, causes in branches.items() if branch not in tagged_otherwise for c in causes]
    if not candidates:
        # every branch is tagged otherwise: the value carries a tag no branch of its own kind has (a
        # nullable object's `null` is another kind), and that tag is the cause, not `null` expected
        candidates = [
            c
            for causes in branches.values()
            if not any(c.validator == "type" and not c.relative_path for c in causes)
            for c in causes
            if c.validator in ("const", "enum") and list(c.relative_path) == ["type"]
        ]
    # jsonschema's ranking, one level at a time (its best_match would descend without the filter)
    best = max(candidates or error.context, key=jsonschema.exceptions.relevance)
    return most_specific(best)


def schema_errors(instance: Any, schema: Mapping[str, Any]) -> list[str]:
    """``$.path: message`` lines for every way ``instance`` breaks ``schema`` (one of the shipped ones)."""
    lines: list[str] = []
    validator = _validator(json.dumps(schema, sort_keys=True))
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        leaf = most_specific(error)
        message = leaf.message if len(leaf.message) <= MESSAGE_CHARS else leaf.message[: MESSAGE_CHARS - 1] + "…"
        line = f"{_where(leaf)}: {message}"
        if line not in lines:
            lines.append(line)
    return lines


def judge_exchange(exchange: Mapping[str, Any], base_url: str) -> list[SpecProblem]:
    """Every way one recorded exchange (a ``results.json`` evidence item) breaks the published spec."""
    request = exchange.get("request") or {}
    response = exchange.get("response") or {}
    status = response.get("status")
    if not isinstance(status, int) or response.get("truncated"):
        return []
    operation = operation_for(str(request.get("method", "")), str(request.get("url", "")), base_url)
    if operation is None:
        return []
    head = f"{operation.method} {operation.path} → {status}"
    if 200 <= status < 300:
        content_type = str((response.get("headers") or {}).get("content-type", "")).lower()
        if content_type.startswith("text/event-stream") and "sse" in response:
            return _judge_chunks(response["sse"], operation, head)
        return _judge_body(_json_body(response), operation.body, head)
    if status >= 400:
        return _judge_body(_json_body(response), operation.error_schema(status), head)
    return []


def _json_body(response: Mapping[str, Any]) -> Any:
    if "body" in response:
        return response["body"]
    if "sse" in response:  # a streamed request answered with one JSON document (an error, say)
        try:
            return json.loads("\n".join(response["sse"]))
        except ValueError:
            return None
    return None  # no body, or not JSON: the compatible reading's business


def _judge_body(body: Any, schema: dict[str, Any] | None, head: str) -> list[SpecProblem]:
    if body is None or schema is None:
        return []
    name = schema_name(schema)
    return [SpecProblem(name, f"{head}: {name} {line}") for line in schema_errors(body, schema)]


def _judge_chunks(lines: list[str], operation: Operation, head: str) -> list[SpecProblem]:
    # the same fault in every chunk is one problem: where it first appears, and how often
    seen: dict[tuple[str, str], list[int]] = {}
    chunks = parse_sse(("\n".join(lines) + "\n\n").encode("utf-8")).json_chunks()
    for number, (_event, chunk) in enumerate(chunks, start=1):
        # an error mid-stream comes as {"error": {...}}: the error envelope, not a chunk
        schema = operation.error_schema(500) if isinstance(chunk, dict) and "error" in chunk else operation.stream
        if schema is None:
            continue
        for line in schema_errors(chunk, schema):
            seen.setdefault((schema_name(schema), line), []).append(number)
    problems = []
    for (name, line), numbers in seen.items():
        where = f"{len(numbers)} of {len(chunks)} chunks from chunk {numbers[0]}" if len(numbers) > 1 else ""
        where = where or f"chunk {numbers[0]} of {len(chunks)}"
        problems.append(SpecProblem(name, f"{head}, {where}: {name} {line}"))
    return problems


def judge_evidence(evidence: Iterable[Mapping[str, Any]], base_url: str) -> list[SpecProblem]:
    """A feature's strict findings: every exchange of its evidence judged, repeats once, at most
    :data:`MAX_REPORTED` and a count of the rest."""
    problems: list[SpecProblem] = []
    for exchange in evidence:
        for problem in judge_exchange(exchange, base_url):
            if problem not in problems:
                problems.append(problem)
    if len(problems) > MAX_REPORTED:
        rest = len(problems) - MAX_REPORTED
        problems = problems[:MAX_REPORTED] + [SpecProblem("", f"... and {rest} more schema errors")]
    return problems
