"""The Files API in depth: upload a batch input (multipart), read it back (retrieve, content, list),
delete a file, and refuse a purpose it does not know.

The upload is shared (``_requests.batch_input_file``): the batch features run the file it creates. A
server without a Files API answers 404 in the envelope, which the engine reads as ``unsupported``
for every feature here. Each check judges the one operation its feature names, so that one broken
operation fails its feature rather than the area.
"""

from __future__ import annotations

from typing import Any

from conformance.checks._common import compact, strict_sdk_json
from conformance.checks._judges import expect_named, judge_error, listed_ids
from conformance.checks._requests import BATCH_FILENAME, Upload, batch_input_file, jsonl, upload_jsonl, uploaded_id
from conformance.context import CheckContext, StatusError
from conformance.registry import check
from conformance.sdk import exception_name_for_status, oracle
from conformance.verdict import Findings, Oracle, Outcome, nonconformant

UNKNOWN_PURPOSE = "conformance-no-such-purpose"
DOOMED = [{"custom_id": "conformance-delete-me", "method": "POST", "url": "/v1/chat/completions", "body": {}}]


def _expect_file(findings: Findings, body: Any, sent: Upload, what: str, file_id: str | None = None) -> None:
    """A FileObject that describes the upload: its id, its size, its name and its purpose."""
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "FileObject"))
    if not isinstance(body, dict):
        return
    if file_id is None:
        findings.expect(
            isinstance(body.get("id"), str) and bool(body.get("id")),
            Oracle.BEHAVIOUR,
            f"{what}: id {body.get('id')!r}, expected the new file's id",
        )
    else:
        findings.expect(
            body.get("id") == file_id, Oracle.BEHAVIOUR, f"{what}: id {body.get('id')!r}, expected {file_id!r}"
        )
    expected = {"bytes": len(sent.content), "filename": BATCH_FILENAME, "purpose": "batch"}
    for field, value in expected.items():
        findings.expect(
            body.get(field) == value,
            Oracle.BEHAVIOUR,
            f"{what}: {field} {compact(body.get(field), 60)}, expected {value!r}",
        )


@check("files.upload")
def upload(ctx: CheckContext) -> Outcome:
    findings = Findings()
    sent = batch_input_file(ctx)
    body, _ = strict_sdk_json(ctx, lambda: sent.raw, findings)
    _expect_file(findings, body, sent, "POST /files")
    return findings.outcome(
        f"POST /files (multipart, purpose batch): a FileObject for the {len(sent.content)} bytes sent", Oracle.SCHEMA
    )


@check("files.retrieve")
def retrieve(ctx: CheckContext) -> Outcome:
    findings = Findings()
    sent = batch_input_file(ctx)
    file_id = uploaded_id(sent)
    client = ctx.sdk(strict=True)
    body, _ = strict_sdk_json(ctx, lambda: client.files.with_raw_response.retrieve(file_id), findings)
    _expect_file(findings, body, sent, "GET /files/{id}", file_id)
    return findings.outcome("GET /files/{id}: the uploaded file's FileObject", Oracle.SCHEMA)


@check("files.content")
def content(ctx: CheckContext) -> Outcome:
    sent = batch_input_file(ctx)
    file_id = uploaded_id(sent)
    got = ctx.require_ok(ctx.wire.get(f"files/{file_id}/content")).body
    if got != sent.content:
        at = next((i for i, (a, b) in enumerate(zip(got, sent.content, strict=False)) if a != b), None)
        where = f"from byte {at}" if at is not None else "in length"
        return nonconformant(
            f"GET /files/{{id}}/content: {len(got)} bytes that differ from the {len(sent.content)} uploaded "
            f"{where} (received {got[:80]!r})",
            Oracle.BEHAVIOUR,
        )
    return Findings().outcome(
        f"GET /files/{{id}}/content: the {len(got)} bytes uploaded, byte for byte", Oracle.BEHAVIOUR
    )


@check("files.list")
def list_files(ctx: CheckContext) -> Outcome:
    findings = Findings()
    file_id = uploaded_id(batch_input_file(ctx))
    client = ctx.sdk(strict=True)
    body, _ = strict_sdk_json(
        ctx, lambda: client.files.with_raw_response.list(purpose="batch", limit=100, order="desc"), findings
    )
    ids = listed_ids(findings, body, "GET /files", "FileObject")
    if ids is None:
        return findings.fail()
    findings.expect(
        file_id in ids,
        Oracle.BEHAVIOUR,
        f"GET /files?purpose=batch&order=desc: the file just uploaded ({file_id}) is not among the {len(ids)} listed",
    )
    listed: list[Any] = body["data"]  # listed_ids found a list there
    other = sorted({str(item.get("purpose")) for item in listed if isinstance(item, dict)} - {"batch"})
    findings.expect(not other, Oracle.BEHAVIOUR, f"GET /files?purpose=batch lists files of purpose {other}")
    return findings.outcome(f"GET /files lists the uploaded file ({len(ids)} of purpose batch)", Oracle.BEHAVIOUR)


@check("files.delete")
def delete(ctx: CheckContext) -> Outcome:
    findings = Findings()
    client = ctx.sdk(strict=True)
    file_id = uploaded_id(upload_jsonl(ctx, jsonl(DOOMED), filename="conformance-delete-me.jsonl"))
    body, _ = strict_sdk_json(ctx, lambda: client.files.with_raw_response.delete(file_id), findings)
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "FileDeleted"))
    if isinstance(body, dict):
        findings.expect(
            body.get("id") == file_id, Oracle.BEHAVIOUR, f"DELETE: id {body.get('id')!r}, expected {file_id!r}"
        )
        findings.expect(
            body.get("deleted") is True, Oracle.BEHAVIOUR, f"DELETE /files/{{id}}: deleted {body.get('deleted')!r}"
        )
    gone = ctx.wire.get(f"files/{file_id}")
    if 200 <= gone.status < 300:
        findings.add(Oracle.BEHAVIOUR, f"GET /files/{{id}} after DELETE: HTTP {gone.status}, the file is still there")
    elif gone.status != 404:
        findings.add(
            Oracle.SDK,
            f"GET /files/{{id}} after DELETE: HTTP {gone.status} makes the SDK raise "
            f"{exception_name_for_status(gone.status)}, expected 404 (NotFoundError)",
        )
    return findings.outcome("DELETE /files/{id}: deleted, then GET answers 404", Oracle.BEHAVIOUR)


@check("files.errors.purpose")
def errors_purpose(ctx: CheckContext) -> Outcome:
    """POST /files with a purpose OpenAI does not know: 400 naming ``purpose``. A 404 is also what a
    server without a Files API answers: then the valid upload is sent, and its decline escapes."""
    findings = Findings()
    what = f"POST /files with purpose {UNKNOWN_PURPOSE!r}"
    create = ctx.sdk(strict=False).files.create
    try:
        accepted = ctx.call_sdk(
            lambda: create(
                file=("conformance-purpose.jsonl", jsonl(DOOMED), "application/jsonl"),
                purpose=UNKNOWN_PURPOSE,  # type: ignore[arg-type]
            )
        )
    except StatusError as error:
        if error.body.status == 404:
            batch_input_file(ctx)
        judge_error(findings, error.body, status=400, what=what)
        expect_named(findings, error.body, what, param="purpose", word="purpose")
        return findings.outcome("refused: 400 in the OpenAI envelope naming `purpose`", Oracle.WIRE)
    return nonconformant(
        f"{what} was accepted (file {getattr(accepted, 'id', None)!r}, purpose "
        f"{getattr(accepted, 'purpose', None)!r}): a typo in `purpose` goes unnoticed until the file is used",
        Oracle.BEHAVIOUR,
    )
