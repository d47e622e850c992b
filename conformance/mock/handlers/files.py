"""The Files API: upload (multipart), list, retrieve, delete, and download a file's content.

Files live in ``state.files``, in memory, with a sample file there from the start (OpenAI's spec
requires ``first_id`` and ``last_id`` on the list, which an empty list cannot give). A batch's
output and error files are kept there too (``handlers/batches.py``). Each answer passes the
pipeline's ``files_answer`` hook, and a download its ``file_content`` hook.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
import time
import uuid

from conformance.mock.handlers._shared import page, query
from conformance.mock.messages import (
    ErrorSpec,
    Incoming,
    MockError,
    MockResponse,
    invalid_value,
    json_response,
    missing_parameter,
)
from conformance.mock.state import MockState, StoredFile

# what POST /files takes (openai-python's FilePurpose); the output purposes are the server's own
PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
SAMPLE = StoredFile(
    "file-conformance-sample",
    "sample.jsonl",
    "batch",
    b'{"custom_id": "sample-1", "method": "POST", "url": "/v1/chat/completions", "body": {}}\n',
    1_700_000_000,
)


def new_file_id() -> str:
    return "file-" + uuid.uuid4().hex[:22]


def form_fields(incoming: Incoming) -> dict[str, tuple[str | None, bytes]]:
    """multipart/form-data fields: name -> (filename, content)."""
    content_type = incoming.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise MockError(ErrorSpec(400, "Expected a multipart/form-data body.", "validation"))
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + incoming.body
    )
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            fields[name] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return fields


def _expires_at(fields: dict[str, tuple[str | None, bytes]], created_at: int) -> int | None:
    """``expires_after[anchor]`` and ``expires_after[seconds]``, as the SDK sends them in the form."""
    if "expires_after[seconds]" not in fields:
        return None
    anchor = fields.get("expires_after[anchor]", (None, b"created_at"))[1].decode(errors="replace")
    if anchor != "created_at":
        raise MockError(invalid_value("expires_after.anchor", f"Invalid 'expires_after.anchor': {anchor!r}."))
    try:
        seconds = int(fields["expires_after[seconds]"][1])
    except ValueError:
        raise MockError(invalid_value("expires_after.seconds", "Invalid 'expires_after.seconds'.")) from None
    if not 3600 <= seconds <= 2_592_000:
        raise MockError(
            invalid_value("expires_after.seconds", "'expires_after.seconds' must be between 3600 and 2592000.")
        )
    return created_at + seconds


async def upload(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    fields = form_fields(incoming)
    if "purpose" not in fields:
        raise MockError(missing_parameter("purpose"))
    purpose = fields["purpose"][1].decode(errors="replace")
    if purpose not in PURPOSES:
        raise MockError(
            invalid_value("purpose", f"'{purpose}' is not one of {list(PURPOSES)} - 'purpose'", "invalid_value")
        )
    if "file" not in fields:
        raise MockError(missing_parameter("file"))
    filename, content = fields["file"]
    created_at = int(time.time())
    stored = StoredFile(
        new_file_id(), filename or "upload", purpose, content, created_at, _expires_at(fields, created_at)
    )
    state.files.put(stored)
    return json_response(200, state.pipeline.files_answer("upload", stored.body()))


async def list_files(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    """A cursor page, newest first unless ``order=asc``, of the files of ``purpose`` (all without it)."""
    purpose = dict(query(incoming)).get("purpose")
    stored = [SAMPLE, *state.files.values()]
    items = [f.body() for f in stored if purpose in (None, "", f.purpose)]
    listed = json.loads(page(items, incoming, default_limit=100, default_order="desc").body)
    return json_response(200, state.pipeline.files_answer("list", listed))


def _file(state: MockState, file_id: str) -> StoredFile:
    return SAMPLE if file_id == SAMPLE.id else state.files.get(file_id)


async def retrieve(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    stored = _file(state, match.group("file_id"))
    return json_response(200, state.pipeline.files_answer("retrieve", stored.body()))


async def delete(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    file_id = match.group("file_id")
    state.files.delete(file_id)
    return json_response(200, state.pipeline.files_answer("delete", {"id": file_id, "object": "file", "deleted": True}))


async def content(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    stored = _file(state, match.group("file_id"))
    payload = state.pipeline.file_content(stored.content, stored.purpose)
    return MockResponse(200, [("content-type", "application/octet-stream")], payload)
