"""The Batch API: create a batch from an uploaded JSONL file, retrieve it, cancel it, list them.

A batch is ``validating`` when created and runs when first polled (GET /batches/{id}): the mock is
instant, so a client polling as OpenAI's guide does sees it ``completed`` at once. Each line is
answered by the mock's own handler for the batch's endpoint, with no quirk applied (a chat quirk
stays chat's); what succeeded goes to the output file, what was refused to the error file, as
OpenAI writes them. A batch cancelled before it ran reads ``cancelling``, then ``cancelled``. Every
answer passes the pipeline's ``batch_answer`` hook, each result line its ``batch_line`` hook, and
whether a polled batch runs at all its ``batch_runs`` hook.
"""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from conformance.mock.effects import Pipeline
from conformance.mock.handlers import chat, completions, embeddings, responses
from conformance.mock.handlers._shared import body_object, page, required_string
from conformance.mock.handlers.files import new_file_id
from conformance.mock.messages import (
    ErrorSpec,
    Incoming,
    MockError,
    MockResponse,
    invalid_value,
    json_response,
    request_id,
)
from conformance.mock.state import MockState, StoredBatch, StoredFile

Handler = Callable[[MockState, Incoming, re.Match[str]], Awaitable[MockResponse]]
# the endpoints a batch may run, and the mock's handler for each
ENDPOINTS: dict[str, Handler] = {
    "/v1/chat/completions": chat.create,
    "/v1/responses": responses.create,
    "/v1/embeddings": embeddings.create,
    "/v1/completions": completions.create,
}
WINDOW = "24h"
WINDOW_SECONDS = 24 * 3600
FINISHED = ("completed", "failed", "expired", "cancelled")


def _answer(state: MockState, operation: str, stored: StoredBatch) -> MockResponse:
    return json_response(200, state.pipeline.batch_answer(operation, copy.deepcopy(stored.batch)))


async def create(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    body = body_object(incoming)
    input_file_id = required_string(body, "input_file_id")
    endpoint = required_string(body, "endpoint")
    window = required_string(body, "completion_window")
    if endpoint not in ENDPOINTS:
        raise MockError(
            invalid_value(
                "endpoint",
                f"The reference mock runs batches of {', '.join(ENDPOINTS)}, not {endpoint!r}.",
                "unsupported_value",
            )
        )
    if window != WINDOW:
        raise MockError(invalid_value("completion_window", f"Invalid 'completion_window': expected '{WINDOW}'."))
    metadata = body.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict) and len(metadata) <= 16 and all(isinstance(v, str) for v in metadata.values())
    ):
        raise MockError(invalid_value("metadata", "Invalid 'metadata': expected at most 16 string values."))
    output_seconds = _output_seconds(body.get("output_expires_after"))
    source = state.files.get(input_file_id)
    if source.purpose != "batch":
        raise MockError(
            invalid_value("input_file_id", f"The input file must have purpose 'batch', not '{source.purpose}'.")
        )
    now = int(time.time())
    batch: dict[str, Any] = {
        "id": "batch_" + uuid.uuid4().hex,
        "object": "batch",
        "endpoint": endpoint,
        "input_file_id": input_file_id,
        "completion_window": window,
        "status": "validating",
        "created_at": now,
        "expires_at": now + WINDOW_SECONDS,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
    }
    if metadata is not None:
        batch["metadata"] = dict(metadata)
    stored = StoredBatch(batch, output_seconds=output_seconds)
    state.batches.put(stored)
    return _answer(state, "create", stored)


def _output_seconds(expiry: Any) -> int | None:
    """``output_expires_after``: ``{"anchor": "created_at", "seconds": 3600 to 2592000}``, or None."""
    if expiry is None:
        return None
    seconds = expiry.get("seconds") if isinstance(expiry, dict) else None
    if not isinstance(expiry, dict) or expiry.get("anchor") != "created_at":
        raise MockError(invalid_value("output_expires_after.anchor", "Invalid 'output_expires_after.anchor'."))
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not 3600 <= seconds <= 2_592_000:
        raise MockError(
            invalid_value("output_expires_after.seconds", "'output_expires_after.seconds' must be 3600 to 2592000.")
        )
    return seconds


async def retrieve(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    stored = state.batches.get(match.group("batch_id"))
    if stored.pending:
        await _advance(state, stored)
    return _answer(state, "retrieve", stored)


async def cancel(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    stored = state.batches.get(match.group("batch_id"))
    status = stored.batch["status"]
    if status in FINISHED:
        raise MockError(ErrorSpec(400, f"Cannot cancel a batch with status '{status}'.", "validation"))
    if status != "cancelling":
        stored.cancel_asked = True
        stored.batch.update(status="cancelling", cancelling_at=int(time.time()))
    return _answer(state, "cancel", stored)


async def list_batches(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    """A cursor page of the batches, newest first."""
    items = [copy.deepcopy(stored.batch) for stored in state.batches.values()]
    listed = json.loads(page(items, incoming, default_order="desc").body)
    return json_response(200, state.pipeline.batch_answer("list", listed))


# --- running a batch ------------------------------------------------------------------------------


async def _advance(state: MockState, stored: StoredBatch) -> None:
    """One poll's worth of progress: a cancelled batch ends, a validated one runs (unless a quirk
    holds it in progress)."""
    batch, now = stored.batch, int(time.time())
    lines, errors = _validated(state, batch)
    if stored.cancel_asked:
        batch.update(status="cancelled", cancelled_at=now)
        batch["request_counts"] = {"total": len(lines), "completed": 0, "failed": 0}
        return
    if errors:
        batch.update(status="failed", failed_at=now, errors={"object": "list", "data": errors})
        return
    if batch["status"] == "validating":
        batch.update(status="in_progress", in_progress_at=now)
        batch["request_counts"] = {"total": len(lines), "completed": 0, "failed": 0}
    if not state.pipeline.batch_runs(batch):
        return
    await _run(state, stored, lines)


def _validated(state: MockState, batch: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The input file's requests, and OpenAI's validation errors for it (each names its line)."""
    lines: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    try:
        content = state.files.get(batch["input_file_id"]).content
    except MockError:  # deleted since the batch was created
        return lines, [{"code": "file_not_found", "message": f"No input file {batch['input_file_id']}."}]
    seen: set[str] = set()

    def error(code: str, message: str, number: int, param: str | None = None) -> None:
        errors.append({"code": code, "message": message, "line": number, **({"param": param} if param else {})})

    for number, text in enumerate(content.decode("utf-8", errors="replace").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except ValueError:
            error("invalid_json_line", "This line is not parseable as valid JSON.", number)
            continue
        if not isinstance(line, dict):
            error("invalid_request", "Each line must be a JSON object.", number)
            continue
        custom_id = line.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            error("missing_required_parameter", "Missing required parameter: 'custom_id'.", number, "custom_id")
        elif custom_id in seen:
            error("duplicate_custom_id", f"The custom_id '{custom_id}' is used more than once.", number, "custom_id")
        else:
            seen.add(custom_id)
        if line.get("method") != "POST":
            error("invalid_value", "The 'method' of each request must be 'POST'.", number, "method")
        if line.get("url") not in (batch["endpoint"], batch["endpoint"].removeprefix("/v1")):
            error(
                "url_mismatch", f"The 'url' of each request must be the batch's endpoint {batch['endpoint']}.", number
            )
        if not isinstance(line.get("body"), dict):
            error("invalid_value", "The 'body' of each request must be a JSON object.", number, "body")
        lines.append(line)
    if not lines and not errors:
        error("empty_file", "The input file has no requests.", 1)
    return lines, errors


async def _run(state: MockState, stored: StoredBatch, lines: list[dict[str, Any]]) -> None:
    """Each request answered by the endpoint's handler with no quirk; results into the output and
    error files, counts and timestamps as OpenAI reports them."""
    batch = stored.batch
    handler = ENDPOINTS[batch["endpoint"]]
    # the model's own logic, with no quirk: a quirk of chat (or any endpoint) stays that endpoint's
    clean = MockState(state.models, Pipeline(()))
    path = batch["endpoint"]
    outputs: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    match = re.fullmatch(".*", path)
    assert match is not None  # the handlers read no group of it
    for line in lines:
        incoming = Incoming("POST", path, {"content-type": "application/json"}, json.dumps(line["body"]).encode())
        try:
            if line["body"].get("stream") is True:
                raise MockError(invalid_value("stream", "Streaming is not supported in batches.", "unsupported_value"))
            answer = await handler(clean, incoming, match)
            status, body = answer.status, json.loads(answer.body)
        except MockError as failure:
            status, body = failure.spec.status, failure.spec.envelope()
        result = {
            "id": "batch_req_" + uuid.uuid4().hex,
            "custom_id": line["custom_id"],
            "response": {"status_code": status, "request_id": request_id(), "body": body},
            "error": None,
        }
        (outputs if 200 <= status < 300 else failures).append(result)
    now = int(time.time())
    batch["request_counts"] = {"total": len(lines), "completed": len(outputs), "failed": len(failures)}
    for kind, results, field in (("output", outputs, "output_file_id"), ("error", failures, "error_file_id")):
        kept = [kept_line for result in results if (kept_line := state.pipeline.batch_line(kind, result))]
        if results:  # OpenAI writes a file only for what there is to write
            content = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in kept).encode()
            expires = now + stored.output_seconds if stored.output_seconds is not None else None
            written = StoredFile(new_file_id(), f"{batch['id']}_{kind}.jsonl", "batch_output", content, now, expires)
            state.files.put(written)
            batch[field] = written.id
    batch.update(status="completed", finalizing_at=now, completed_at=now)
