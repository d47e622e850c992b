"""The Files and Batch APIs served wrongly: file objects, downloads and deletions as real servers got
them wrong, and batch pipelines that report, count, cancel or file their results wrongly."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from conformance.mock.effects import Effects
from conformance.mock.handlers.files import SAMPLE
from conformance.mock.messages import ErrorSpec, Incoming, MockResponse
from conformance.mock.quirks._model import NONCONFORMANT, SKIPPED, Quirk
from conformance.mock.quirks._shared import error_body

FILES_FEATURES = (
    "files.upload",
    "files.retrieve",
    "files.content",
    "files.list",
    "files.delete",
    "files.errors.purpose",
)
BATCHES_FEATURES = (
    "batches.create",
    "batches.complete",
    "batches.output",
    "batches.request_counts",
    "batches.error_file",
    "batches.cancel",
    "batches.list",
)
# the features that wait for a batch to end
BATCH_RUN_FEATURES = ("batches.complete", "batches.output", "batches.request_counts", "batches.error_file")


def _server_error(method: str, pattern: str, message: str) -> Callable[[Incoming], ErrorSpec | None]:
    """A route (under /v1) that answers 500 in the envelope."""
    compiled = re.compile(rf"/v1/{pattern}")

    def fail(incoming: Incoming) -> ErrorSpec | None:
        if incoming.method == method and compiled.fullmatch(incoming.path):
            return ErrorSpec(500, message, "server", "server_error")
        return None

    return fail


def _upload_fields_null(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    if operation != "upload":
        return body
    return {**body, "bytes": None, "created_at": None, "filename": None, "purpose": None, "status": "success"}


def _content_json_encoded(content: bytes, purpose: str) -> bytes:
    """An uploaded file's text sent back JSON-encoded: one quoted string, its newlines escaped."""
    return json.dumps(content.decode("utf-8", errors="replace")).encode() if purpose == "batch" else content


def _uploads_unlisted(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """GET /files lists only the sample file, none of the caller's uploads."""
    if operation != "list":
        return body
    return {**body, "data": [f for f in body.get("data") or () if f.get("id") == SAMPLE.id], "has_more": False}


def _delete_answers_file(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    """DELETE /files/{id} answered with a file object, without `deleted`."""
    if operation != "delete":
        return body
    return {"id": body.get("id"), "object": "file", "purpose": "batch", "status": "uploaded"}


def _purpose_500(response: MockResponse, spec: ErrorSpec, incoming: Incoming) -> MockResponse:
    if spec.param != "purpose" or incoming.path != "/v1/files":
        return response
    envelope = {"error": {"message": "Internal Server Error", "type": "server_error", "param": None, "code": None}}
    return error_body(response, spec, envelope, status=500)


def _queued(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "status": "queued"} if operation == "create" and body.get("status") == "validating" else body


def _failed_counted_completed(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    counts = body.get("request_counts")
    if not isinstance(counts, dict):
        return body
    merged = {**counts, "completed": counts.get("completed", 0) + counts.get("failed", 0), "failed": 0}
    return {**body, "request_counts": merged}


def _cancel_reads_in_progress(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    if operation != "cancel" or body.get("status") != "cancelling":
        return body
    return {**{k: v for k, v in body.items() if k != "cancelling_at"}, "status": "in_progress"}


def _list_empty(operation: str, body: dict[str, Any]) -> dict[str, Any]:
    if operation != "list":
        return body
    return {"object": "list", "data": [], "has_more": False}


def _output_without_custom_id(kind: str, line: dict[str, Any]) -> dict[str, Any] | None:
    return {k: v for k, v in line.items() if k != "custom_id"} if kind == "output" else line


def _failed_line_dropped(kind: str, line: dict[str, Any]) -> dict[str, Any] | None:
    return None if kind == "error" else line


TABLE: tuple[Quirk, ...] = (
    # --- files
    Quirk(
        "files.upload_fields_null",
        "files",
        "POST /files answers the file object with `bytes`, `created_at`, `filename` and `purpose` null and "
        '`status: "success"`, where the SDK\'s FileObject requires them.',
        "https://github.com/llm-edge/hal-9100/issues/70",
        Effects(files_answer=_upload_fields_null),
        detects={"files.upload": NONCONFORMANT},
    ),
    Quirk(
        "files.retrieve_500",
        "files",
        "GET /v1/files/{id} answers 500 for a file the server has (and for one it deleted).",
        "https://github.com/BerriAI/litellm/issues/41751, https://github.com/BerriAI/litellm/issues/5396",
        Effects(decline_route=_server_error("GET", r"files/[^/]+", "does not support file retrieval")),
        # files.delete reads the deleted file back to see it gone
        detects={"files.retrieve": NONCONFORMANT, "files.delete": NONCONFORMANT},
    ),
    Quirk(
        "files.content_altered",
        "files",
        "GET /v1/files/{id}/content of an uploaded file answers its text JSON-encoded (one quoted string), not "
        "the bytes uploaded.",
        "https://github.com/BerriAI/litellm/issues/6389 (the downloaded content differs from the upload), "
        "https://github.com/BerriAI/litellm/pull/7342",
        Effects(file_content=_content_json_encoded),
        detects={"files.content": NONCONFORMANT},
    ),
    Quirk(
        "files.list_omits_uploads",
        "files",
        "GET /v1/files lists none of the files the caller uploaded.",
        "https://github.com/BerriAI/litellm/issues/41753",
        Effects(files_answer=_uploads_unlisted),
        detects={"files.list": NONCONFORMANT},
    ),
    Quirk(
        "files.delete_not_confirmed",
        "files",
        'DELETE /v1/files/{id} answers a file object (`status: "uploaded"`) instead of `{id, object, deleted: '
        "true}`: the SDK's FileDeleted requires `deleted`.",
        "https://github.com/BerriAI/litellm/pull/39536 (the DELETE answer it shows)",
        Effects(files_answer=_delete_answers_file),
        detects={"files.delete": NONCONFORMANT},
    ),
    Quirk(
        "files.purpose_500",
        "files",
        "POST /v1/files with a purpose the server does not know answers 500 instead of 400.",
        "https://github.com/doublewordai/control-layer/pull/1137 (an unsupported purpose stored raw, then a 500)",
        Effects(error=_purpose_500),
        detects={"files.errors.purpose": NONCONFORMANT},
    ),
    # --- batches
    Quirk(
        "batches.queued_status",
        "batches",
        'POST /v1/batches answers the new batch with `status: "queued"`, none of OpenAI\'s batch statuses.',
        "https://github.com/deltawi/deltallm/issues/153",
        Effects(batch_answer=_queued),
        detects={"batches.create": NONCONFORMANT},
    ),
    Quirk(
        "batches.stuck_in_progress",
        "batches",
        "A batch never runs: GET /v1/batches/{id} answers `in_progress` for ever.",
        "https://github.com/sgl-project/sglang/issues/1415",
        Effects(batch_runs=lambda batch: False),
        # a batch still running when the suite stops waiting is the server's right (24 h): skipped
        detects=dict.fromkeys(BATCH_RUN_FEATURES, SKIPPED),
    ),
    Quirk(
        "batches.retrieve_fails",
        "batches",
        "GET /v1/batches/{id} answers 500 for a batch the server just created.",
        "https://github.com/BerriAI/litellm/issues/9189",
        Effects(decline_route=_server_error("GET", r"batches/[^/]+", "Error retrieving batch")),
        # every feature that polls a batch
        detects=dict.fromkeys((*BATCH_RUN_FEATURES, "batches.cancel"), NONCONFORMANT),
    ),
    Quirk(
        "batches.output_custom_id_missing",
        "batches",
        "The lines of a batch's output file carry no `custom_id`: results cannot be matched to requests.",
        "https://github.com/BerriAI/litellm/pull/22723 (batch outputs without custom_id)",
        Effects(batch_line=_output_without_custom_id),
        detects={"batches.output": NONCONFORMANT},
    ),
    Quirk(
        "batches.failed_counted_completed",
        "batches",
        "`request_counts.failed` is always 0: a refused request is counted as completed.",
        "https://github.com/vllm-project/aibrix/issues/2253",
        Effects(batch_answer=_failed_counted_completed),
        detects={"batches.request_counts": NONCONFORMANT},
    ),
    Quirk(
        "batches.failed_line_dropped",
        "batches",
        "A refused request is written to no result file: the error file is empty.",
        "https://github.com/TU-Wien-dataLAB/aqueduct/issues/55",
        Effects(batch_line=_failed_line_dropped),
        detects={"batches.error_file": NONCONFORMANT},
    ),
    Quirk(
        "batches.cancel_ignored",
        "batches",
        "POST /v1/batches/{id}/cancel answers the batch still `in_progress`, not `cancelling`.",
        "https://github.com/deltawi/deltallm/pull/154 (cancel-requested jobs reported in_progress)",
        Effects(batch_answer=_cancel_reads_in_progress),
        detects={"batches.cancel": NONCONFORMANT},
    ),
    Quirk(
        "batches.list_empty",
        "batches",
        "GET /v1/batches answers an empty list, whatever batches exist.",
        "https://github.com/googleapis/python-genai/issues/1250 (Gemini's batch list, empty without a page size)",
        Effects(batch_answer=_list_empty),
        detects={"batches.list": NONCONFORMANT},
    ),
)
