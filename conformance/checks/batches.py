"""The Batch API in depth: create a batch from an uploaded file, poll it to its end, read its output
and error files, check its request counts, cancel one, list them.

The batch runs a file the suite uploads (``_requests``): two short chat completions requests, and
one without ``messages`` (every server must refuse it: the refusal belongs in the error file, and
the batch still completes). A batch is polled for a bounded time (``_requests.BATCH_WAIT_S``, within the run's
deadline): one still running then is ``skipped`` with the reason, never failed, since OpenAI allows
24 hours. Without a Files API no batch can be given its input: the features here are skipped, or
``unsupported`` when the server has no Batch API either. What the model writes in each completion is
never judged, only that each line is one.
"""

from __future__ import annotations

import json
from typing import Any

from conformance.checks._common import compact, json_object, strict_sdk_json
from conformance.checks._judges import listed_ids
from conformance.checks._requests import (
    BATCH_ENDPOINT,
    BATCH_FINISHED,
    BATCH_METADATA,
    BATCH_PROMPTS,
    BATCH_REFUSED,
    BATCH_WINDOW,
    Polled,
    batch_input_file,
    batch_input_id,
    created_batch,
    created_batch_id,
    finished_batch,
    poll_batch,
    uploaded_id,
)
from conformance.context import CheckContext, StatusError
from conformance.envelope import decode_error_body, envelope_problems
from conformance.registry import check
from conformance.sdk import oracle
from conformance.verdict import Findings, Oracle, Outcome, Status, StopCheck, nonconformant, skipped

STATUSES = ("validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled")


def _results(content: bytes, what: str, findings: Findings) -> dict[str, list[dict[str, Any]]]:
    """A result file's lines by custom_id; a line that is not a JSON object is a finding."""
    lines: dict[str, list[dict[str, Any]]] = {}
    for number, text in enumerate(content.decode("utf-8", errors="replace").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            line = json.loads(text)
        except ValueError:
            findings.add(Oracle.WIRE, f"{what} line {number} is not JSON: {text[:80]!r}")
            continue
        if not isinstance(line, dict):
            findings.add(Oracle.WIRE, f"{what} line {number} is a JSON {type(line).__name__}, expected an object")
            continue
        lines.setdefault(str(line.get("custom_id")), []).append(line)
    return lines


def _file_of(ctx: CheckContext, batch: dict[str, Any], field: str) -> bytes:
    return ctx.require_ok(ctx.wire.get(f"files/{batch[field]}/content")).body


def _ended_as(polled: Polled) -> str:
    seen: list[Any] = []
    for status in polled.statuses:
        if not seen or seen[-1] != status:
            seen.append(status)
    return " → ".join(map(str, seen))


@check("batches.create")
def create(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body, _ = strict_sdk_json(ctx, lambda: created_batch(ctx), findings)
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "Batch"))
    if not isinstance(body, dict):
        return findings.fail()
    expected = {
        "input_file_id": uploaded_id(batch_input_file(ctx)),
        "endpoint": BATCH_ENDPOINT,
        "completion_window": BATCH_WINDOW,
        "metadata": BATCH_METADATA,
    }
    for field, value in expected.items():
        findings.expect(
            body.get(field) == value,
            Oracle.BEHAVIOUR,
            f"{field}: received {compact(body.get(field), 80)}, expected {value!r}",
        )
    findings.expect(
        isinstance(body.get("id"), str) and bool(body.get("id")), Oracle.BEHAVIOUR, f"id: received {body.get('id')!r}"
    )
    findings.expect(
        body.get("status") not in ("failed", "expired", "cancelling", "cancelled"),
        Oracle.BEHAVIOUR,
        f"status {body.get('status')!r} for a batch just created from a valid file",
    )
    return findings.outcome(
        f"POST /batches: a Batch the strict SDK parses, status {body.get('status')!r}", Oracle.SCHEMA
    )


@check("batches.complete")
def complete(ctx: CheckContext) -> Outcome:
    findings = Findings()
    polled = finished_batch(ctx)
    batch = polled.batch
    findings.extend(Oracle.SCHEMA, oracle.validate(batch, "Batch"))
    unknown = sorted({str(s) for s in polled.statuses if s not in STATUSES})
    findings.expect(not unknown, Oracle.SCHEMA, f"status {unknown} while polled: none of OpenAI's batch statuses")
    batch_id = created_batch_id(ctx)
    findings.expect(
        batch.get("id") == batch_id, Oracle.BEHAVIOUR, f"GET /batches/{{id}} answered id {batch.get('id')!r}"
    )
    status = batch.get("status")
    if status != "completed":
        errors = (batch.get("errors") or {}).get("data") if isinstance(batch.get("errors"), dict) else None
        findings.add(
            Oracle.BEHAVIOUR,
            f"a batch of {len(BATCH_PROMPTS)} valid requests and one refused ended {status!r}, expected 'completed' "
            f"(errors: {compact(errors, 160)})",
        )
    else:
        findings.expect(
            isinstance(batch.get("completed_at"), int),
            Oracle.BEHAVIOUR,
            f"completed_at: received {batch.get('completed_at')!r} for a completed batch",
        )
    return findings.outcome(
        f"completed in {polled.seconds:.1f} s, {len(polled.statuses)} poll(s): {_ended_as(polled)}", Oracle.BEHAVIOUR
    )


@check("batches.output")
def output(ctx: CheckContext) -> Outcome:
    findings = Findings()
    batch = finished_batch(ctx).batch
    if batch.get("status") != "completed":
        return skipped(f"the batch ended {batch.get('status')!r}: no output to read (batches.complete judges it)")
    if not isinstance(batch.get("output_file_id"), str) or not batch["output_file_id"]:
        return nonconformant(
            f"the batch completed {len(BATCH_PROMPTS)} valid requests with output_file_id "
            f"{batch.get('output_file_id')!r}: their answers cannot be downloaded",
            Oracle.BEHAVIOUR,
        )
    lines = _results(_file_of(ctx, batch, "output_file_id"), "the output file", findings)
    for custom_id in BATCH_PROMPTS:
        found = lines.pop(custom_id, [])
        if len(found) != 1:
            findings.add(
                Oracle.BEHAVIOUR, f"custom_id {custom_id!r}: {len(found)} lines in the output file, expected 1"
            )
            continue
        line = found[0]
        response = line.get("response")
        if not isinstance(response, dict):
            findings.add(Oracle.BEHAVIOUR, f"{custom_id}: response {compact(response, 80)}, expected an object")
            continue
        findings.expect(
            response.get("status_code") == 200,
            Oracle.BEHAVIOUR,
            f"{custom_id}: response.status_code {response.get('status_code')!r}, expected 200",
        )
        findings.expect(
            line.get("error") is None, Oracle.BEHAVIOUR, f"{custom_id}: error {compact(line.get('error'), 80)}"
        )
        body = response.get("body")
        findings.extend(
            Oracle.SCHEMA, [f"{custom_id}: response.body {p}" for p in oracle.validate(body, "ChatCompletion")][:3]
        )
    if lines:
        findings.add(
            Oracle.BEHAVIOUR,
            f"the output file has lines for custom_id {sorted(lines)}, expected only the answered requests",
        )
    return findings.outcome(
        f"the output file: one line per custom_id ({', '.join(BATCH_PROMPTS)}), each a chat.completion",
        Oracle.BEHAVIOUR,
    )


# what the batch must count: its three requests, two answered and one refused
COUNTS = {"total": len(BATCH_PROMPTS) + 1, "completed": len(BATCH_PROMPTS), "failed": 1}


@check("batches.request_counts")
def request_counts(ctx: CheckContext) -> Outcome:
    findings = Findings()
    batch = finished_batch(ctx).batch
    if batch.get("status") != "completed":
        return skipped(f"the batch ended {batch.get('status')!r}: its counts are not final (batches.complete judges)")
    counts = batch.get("request_counts")
    if not isinstance(counts, dict):
        return nonconformant(f"request_counts: received {compact(counts, 80)}, expected an object", Oracle.SCHEMA)
    got = {k: counts.get(k) for k in COUNTS}
    total, completed, failed = got["total"], got["completed"], got["failed"]
    if isinstance(total, int) and isinstance(completed, int) and isinstance(failed, int):
        findings.expect(
            completed + failed == total, Oracle.BEHAVIOUR, f"completed {completed} + failed {failed} != total {total}"
        )
    findings.expect(
        got == COUNTS,
        Oracle.BEHAVIOUR,
        f"request_counts {compact(got)} for two answered requests and one refused, expected {compact(COUNTS)}",
    )
    return findings.outcome(f"request_counts {compact(got)}: they add up, and count what ran", Oracle.BEHAVIOUR)


@check("batches.error_file")
def error_file(ctx: CheckContext) -> Outcome:
    findings = Findings()
    batch = finished_batch(ctx).batch
    status = batch.get("status")
    if status != "completed":
        return skipped(f"the batch ended {status!r}: no error file to read (batches.complete judges it)")
    if not isinstance(batch.get("error_file_id"), str) or not batch["error_file_id"]:
        return nonconformant(
            f"one request was refused, but error_file_id is {batch.get('error_file_id')!r}: the caller cannot learn "
            "which request failed, or why",
            Oracle.BEHAVIOUR,
        )
    lines = _results(_file_of(ctx, batch, "error_file_id"), "the error file", findings)
    found = lines.pop(BATCH_REFUSED, [])
    if len(found) != 1:
        findings.add(
            Oracle.BEHAVIOUR,
            f"custom_id {BATCH_REFUSED!r} (no messages): {len(found)} lines in the error file, expected 1",
        )
    for line in found[:1]:
        response = line.get("response")
        code = response.get("status_code") if isinstance(response, dict) else None
        if isinstance(response, dict) and isinstance(code, int) and 400 <= code < 500:
            problems = envelope_problems_of(response.get("body"))
            findings.extend(Oracle.WIRE, [f"{BATCH_REFUSED}: response.body {p}" for p in problems][:2])
        else:
            findings.add(
                Oracle.BEHAVIOUR,
                f"{BATCH_REFUSED}: response {compact(response, 80)} and error {compact(line.get('error'), 80)}: "
                "expected the refusal as OpenAI writes it, response.status_code 400 with the error envelope as body",
            )
    answered = sorted(set(lines) & set(BATCH_PROMPTS))
    findings.expect(not answered, Oracle.BEHAVIOUR, f"the error file holds the answered requests {answered}")
    return findings.outcome(
        f"the error file holds the refused request ({BATCH_REFUSED}), with its 400 and error envelope",
        Oracle.BEHAVIOUR,
    )


def envelope_problems_of(body: Any) -> list[str]:
    """What keeps a result line's body from being OpenAI's error envelope."""
    return envelope_problems(decode_error_body(400, "application/json", json.dumps(body).encode()))


@check("batches.cancel")
def cancel(ctx: CheckContext) -> Outcome:
    """A batch of its own, cancelled at once: answered ``cancelling`` (or ``cancelled``), then polled to
    ``cancelled``. One that ended before the cancel arrived had nothing left to cancel: skipped."""
    findings = Findings()
    file_id = batch_input_id(ctx, batch_input_file)
    request = {"input_file_id": file_id, "endpoint": BATCH_ENDPOINT, "completion_window": BATCH_WINDOW}
    created = json_object(ctx.require_ok(ctx.wire.post("batches", request)))
    batch_id = created.get("id")
    if not isinstance(batch_id, str) or not batch_id:
        return skipped(f"POST /batches was answered without a batch id ({compact(created, 100)})")
    client = ctx.sdk(strict=True)
    try:
        body, _ = strict_sdk_json(ctx, lambda: client.batches.with_raw_response.cancel(batch_id), findings)
    except StatusError:
        now = ctx.wire.get(f"batches/{batch_id}").json_or_none()
        if isinstance(now, dict) and now.get("status") in ("completed", "failed", "expired"):
            return skipped(f"the batch ended {now.get('status')!r} before the cancel arrived: nothing to cancel")
        raise
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "Batch"))
    status = body.get("status") if isinstance(body, dict) else None
    if status in ("completed", "failed", "expired"):
        return skipped(f"the batch ended {status!r} before the cancel arrived: nothing to cancel")
    if status not in ("cancelling", "cancelled"):
        # the cancel was not taken: waiting up to BATCH_WAIT_S for a cancelled batch decides nothing more
        findings.add(
            Oracle.BEHAVIOUR,
            f"POST /batches/{{id}}/cancel answered status {status!r}, expected 'cancelling' (or 'cancelled')",
        )
        return findings.fail()
    try:
        ended = poll_batch(ctx, batch_id, ("cancelled", *BATCH_FINISHED))
    except StopCheck as stop:
        if stop.outcome.status is not Status.SKIPPED:
            raise
        findings.note(f"not yet cancelled: {stop.outcome.reason}")
        return findings.outcome(f"cancel answered {status!r}", Oracle.BEHAVIOUR)
    final = ended.batch.get("status")
    if final == "completed":
        findings.note("the batch completed while cancelling (a small batch may finish first)")
    else:
        findings.expect(final == "cancelled", Oracle.BEHAVIOUR, f"after the cancel the batch ended {final!r}")
    return findings.outcome(f"cancel answered {status!r}, then {_ended_as(ended)}", Oracle.BEHAVIOUR)


@check("batches.list")
def list_batches(ctx: CheckContext) -> Outcome:
    findings = Findings()
    batch_id = created_batch_id(ctx)
    client = ctx.sdk(strict=True)
    body, _ = strict_sdk_json(ctx, lambda: client.batches.with_raw_response.list(limit=100), findings)
    ids = listed_ids(findings, body, "GET /batches", "Batch")
    if ids is None:
        return findings.fail()
    findings.expect(
        batch_id in ids,
        Oracle.BEHAVIOUR,
        f"GET /batches?limit=100: the batch just created ({batch_id}) is not among the {len(ids)} listed",
    )
    return findings.outcome(f"GET /batches lists the batch just created ({len(ids)} listed)", Oracle.BEHAVIOUR)
