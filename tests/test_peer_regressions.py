"""Regressions from meeting real servers (reports/peers/*/TRIAGE.md): the wire bytes that fooled
the suite once, replayed by a scripted server, must now get the verdict they deserve.

- Prism answers a stream request with its static JSON example: stream features about chunk details
  passed vacuously over zero chunks; they now say there was nothing to judge.
- Prism's reply "string" ended well within max_tokens=5 with "stop": that is no evidence of a missing
  cut (skipped); LiteLLM's five-word reply with usage 20 tokens and "stop" is (nonconformant).
- Prism's 401 is RFC 9457 problem details, which the envelope judge called FastAPI-style.
- Prism accepts max_tokens=10^9: the run reported a billion completion tokens requested.
- Prism answers a Responses stream request with its JSON example too: responses.stream.event_lines
  passed over zero events. Its bare 200 to DELETE /responses/{id} (what the spec declares and the
  SDK expects) was called "not JSON".

The model's choices judged as the server's contract, and server faults the suite missed (the
classes found against real small models; each recording's provenance is in the test that uses it):

- A non-strict tool call whose arguments leave out a required property (LiteLLM's get_weather without
  `unit`) is the model's: a note, never a failure (OpenAI validates arguments only with `strict: true`).
- A verbose reply ending "length" inside the stream helper's budget makes the SDK raise
  LengthFinishReasonError by design: the budget is raised once, then the feature is skipped.
- Streamed text that differs from the non-streamed text, with the same structure, is a note.
- llama-cpp-python's named call, cut at max_tokens mid-argument and reported as "tool_calls": the
  arguments are the model's, the unreported cut is the server's.
- llama-cpp-python's `<tool_call>` markup left in content under tool_choice "auto" is a call the
  server did not parse, not the model answering in text.
- Prism's token-kind transcription usage, answered as verbose_json, was reported as "not of type
  'null'": a union's tags now speak before its null.
- Prism's cancel answered with its static 'validating' batch was failed, then the batch polled for
  28 s to see it cancelled: it is now judged at once.
- LiteLLM's 500 to a GET that responses.metadata read only for a note grouped the feature under
  that 500 in the run's root causes: such a request is now marked on its exchange and passed by.
- LiteLLM without files configured answered 500 to the batch input upload and to the suite's
  GET /batches probe: batches.create's reason blamed no request, so it read as POST /batches failing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conformance.catalog import load_catalog
from conformance.context import StatusError
from conformance.document import build_results
from conformance.engine import Engine, RunResult, _answering
from conformance.envelope import decode_error_body, envelope_problems
from conformance.sdk import oracle
from conformance.target import Secret, Target
from conformance.verdict import Status
from conformance.wire import RecordedExchange
from tests.conftest import TEST_TIMEOUTS
from tests.hostile import response_bytes
from tests.scripted import Request, Script, models_ok, send_json

WIRE = Path(__file__).resolve().parent / "wire"


def _replay(name: str) -> Any:
    body = json.loads((WIRE / name).read_text())

    def answer(script: Script, request: Request, wfile: Any) -> None:
        send_json(wfile, 200, body)  # for every request, streamed or not, as the peer did

    return answer


def run_scripted(routes: dict[tuple[str, str], Any], *features: str, models: dict[str, str] | None = None) -> RunResult:
    """``features`` run against a scripted server answering ``routes`` (GET /v1/models answers one model)."""
    catalog = load_catalog()
    with Script({("GET", "/v1/models"): models_ok, **routes}) as script:
        models = models or {"chat": "m", "tools": "m"}
        target = Target(script.base_url, Secret("sk-test"), models, timeouts=TEST_TIMEOUTS)
        with Engine(target, catalog) as engine:
            return engine.run(catalog.select(list(features)))


def run_against(name: str, *features: str) -> RunResult:
    return run_scripted({("POST", "/v1/chat/completions"): _replay(name)}, *features)


def test_a_json_answer_to_a_stream_request_fails_the_stream_and_passes_nothing_vacuously() -> None:
    run = run_against(
        "prism-chat-completion.json",
        "chat.stream.chunk_object",
        "chat.stream.stable_id",
        "chat.stream.role_first_delta",
        "chat.stream.no_unrequested_usage",
    )
    assert run.results["chat.stream.chunk_object"].outcome.status is Status.NONCONFORMANT
    for feature_id in ("chat.stream.stable_id", "chat.stream.role_first_delta", "chat.stream.no_unrequested_usage"):
        outcome = run.results[feature_id].outcome
        assert outcome.status is Status.SKIPPED, (feature_id, outcome.reason)
        assert "no chat chunk to judge" in outcome.reason


def test_a_reply_that_ends_within_the_limit_is_not_judged_on_finish_reason() -> None:
    outcome = run_against("prism-chat-completion.json", "chat.max_tokens.length").results["chat.max_tokens.length"]
    assert outcome.outcome.status is Status.SKIPPED and "nothing was cut" in outcome.outcome.reason


def test_a_reply_longer_than_the_limit_with_stop_is_nonconformant() -> None:
    result = run_against("litellm-chat-completion.json", "chat.max_tokens.length").results["chat.max_tokens.length"]
    assert result.outcome.status is Status.NONCONFORMANT
    assert "usage.completion_tokens: received 20" in " ".join(p.message for p in result.outcome.problems)


def test_problem_details_are_named_as_such() -> None:
    raw = (WIRE / "prism-401-problem.json").read_bytes()
    problems = envelope_problems(decode_error_body(401, "application/problem+json", raw))
    assert problems == [
        'error body is RFC 9457 problem details ({"title", "status", "detail"}): expected {"error": {...}}'
    ]


def test_an_accepted_impossible_limit_is_not_counted_as_a_billion_tokens() -> None:
    run = run_against("litellm-chat-completion.json", "errors.oversized")
    assert run.results["errors.oversized"].outcome.status is Status.NONCONFORMANT  # accepted: silently capped
    assert run.completion_tokens_requested < 1000


def test_a_json_line_read_as_sse_is_no_framing_variant() -> None:
    from conformance.sse import parse_sse

    facts = {kind for kind, _, _ in parse_sse((WIRE / "prism-chat-completion.json").read_bytes()).facts}
    assert "no_space_after_colon" not in facts  # '{"id":...' is no `data:` field written without its space


def test_the_agent_loop_answers_a_call_even_when_its_arguments_are_off() -> None:
    # LiteLLM's fixed get_weather call lacks the required `unit`: still a call a client can answer, and
    # the missing argument is the model's (get_weather is not strict): a note. Its answer to the tool
    # result is the same call again, with finish_reason "stop": calling again is the model's choice,
    # but "stop" beside tool_calls is the server's, as chat.tools.required says; the reason once
    # claimed "the whole agent loop works"
    run = run_against("litellm-tool-call.json", "chat.tools.loop")
    outcome = run.results["chat.tools.loop"].outcome
    assert outcome.status is Status.NONCONFORMANT, outcome.reason
    assert "finish_reason: received 'stop' with tool calls" in outcome.reason
    assert "whole agent loop works" not in outcome.reason
    assert len(outcome.evidence) == 2  # the call, then the tool result answered
    assert any("'unit' is a required property" in note and "not strict" in note for note in outcome.notes)
    assert any("called the tool again" in note for note in outcome.notes)


def test_a_model_calling_the_tool_again_is_said_as_such_never_as_a_whole_loop() -> None:
    # the same call with finish_reason "tool_calls" for every request: the server is right, and the
    # reason says what happened (no final answer), not that the loop completed
    run = run_with(lambda body: "handmade-tool-call-missing-required.json", "chat.tools.loop")
    outcome = run.results["chat.tools.loop"].outcome
    assert outcome.status is Status.SUPPORTED, outcome.reason
    assert outcome.reason.startswith("call and tool result accepted; the model called the tool again")


def test_a_decline_naming_the_field_only_in_its_message_is_honest() -> None:
    # LiteLLM's real answer to `dimensions`: 400, OpenAI's envelope, param null, the field named in
    # the message; OpenAI's own answer has param null too ("This model does not support specifying
    # dimensions."), so a suite demanding param would fail OpenAI itself
    from conformance.envelope import ErrorBody, judge_decline

    recorded = (WIRE / "litellm-dimensions-400.json").read_bytes()
    body = ErrorBody(400, "application/json", recorded, json.loads(recorded))
    assert judge_decline(body, param="dimensions") == (True, [])
    openai_own = json.dumps(
        {
            "error": {
                "message": "This model does not support specifying dimensions.",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            }
        }
    ).encode()
    assert judge_decline(ErrorBody(400, "application/json", openai_own, json.loads(openai_own)), param="dimensions")[0]
    # a message that names another field, or none, still fails
    other = openai_own.replace(b"dimensions", b"the size")
    honest, problems = judge_decline(ErrorBody(400, "application/json", other, json.loads(other)), param="dimensions")
    assert not honest and problems == ["error.param: received None, expected 'dimensions'"]


def test_a_200_on_a_wrong_base_url_is_no_pass() -> None:
    # Prism answers GET /v1/chat/completions/models (a base URL with /chat/completions appended) with a
    # chat completion: models.list() would silently read nothing
    completion = _replay("prism-chat-completion.json")
    run = run_scripted({("GET", "/v1/chat/completions/models"): completion}, "http.path.misconfigured_base_url")
    outcome = run.results["http.path.misconfigured_base_url"].outcome
    assert outcome.status is Status.NONCONFORMANT and "not a model list" in outcome.reason


def test_a_gzip_error_body_is_read_decoded() -> None:
    import gzip

    error = {"error": {"message": "model not found", "type": "invalid_request_error", "param": "model", "code": None}}
    packed = gzip.compress(json.dumps(error).encode() * 1)

    def gzipped_404(script: Script, request: Request, wfile: Any) -> None:
        wfile.write(response_bytes(404, "application/json", packed, {"content-encoding": "gzip"}))
        wfile.flush()

    run = run_scripted({("POST", "/v1/chat/completions"): gzipped_404}, "errors.unknown_model")
    outcome = run.results["errors.unknown_model"].outcome
    assert outcome.status is Status.SUPPORTED, outcome.reason  # a gzip body is no "not JSON" envelope
    assert outcome.evidence[-1]["response"]["body"]["error"]["param"] == "model"


# --- the model's choices are not the server's contract ---------------------------------------------


def _recording(name: str) -> Any:
    return json.loads((WIRE / name).read_text(encoding="utf-8"))


def _serve(choose: Any) -> Any:
    """A route answering each chat request with the recording ``choose(request body)`` names: a JSON
    body, or ``{"sse": [lines]}`` (a stream, as results.json's evidence records one) sent as SSE."""

    def answer(script: Script, request: Request, wfile: Any) -> None:
        recorded = _recording(choose(json.loads(request.body)))
        if isinstance(recorded, dict) and set(recorded) == {"sse"}:
            payload = ("\n".join(recorded["sse"]) + "\n").encode()  # the lines as splitlines() left them
            head = f"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {len(payload)}\r\n\r\n"
            wfile.write(head.encode() + payload)
            wfile.flush()
            return
        send_json(wfile, 200, recorded)

    return answer


def run_with(choose: Any, *features: str) -> RunResult:
    return run_scripted({("POST", "/v1/chat/completions"): _serve(choose)}, *features)


def test_a_non_strict_call_missing_a_required_argument_is_a_note() -> None:
    # handmade-tool-call-missing-required{,-stream}.json: LiteLLM's real call (get_weather with `city`
    # only) with finish_reason "tool_calls" instead of its "stop", and the same call as three chunks;
    # no peer sent this class with every server-controlled field right, so these are hand-made
    features = (
        "chat.tools.required",
        "chat.tools.auto",
        "chat.tools.stream",
        "chat.tools.stream_helper",
        "chat.tools.loop",
        "chat.tools.parallel_false",
    )
    run = run_with(
        lambda body: "handmade-tool-call-missing-required" + ("-stream" if body.get("stream") else "") + ".json",
        *features,
    )
    for feature_id in features:
        outcome = run.results[feature_id].outcome
        assert outcome.status is Status.SUPPORTED, (feature_id, outcome.reason)
        assert any("'unit' is a required property" in note for note in outcome.notes), (feature_id, outcome.notes)
    # the auto call was made at once: nothing to try again
    assert len(run.results["chat.tools.auto"].outcome.evidence) == 1
    assert any('content is ""' in note for note in run.results["chat.tools.required"].outcome.notes)


def test_one_call_where_two_were_asked_is_tried_again_and_then_noted() -> None:
    # LiteLLM's real single call, for every request: the model's choice in each of the trials
    run = run_with(lambda body: "litellm-tool-call.json", "chat.tools.parallel")
    outcome = run.results["chat.tools.parallel"].outcome
    assert outcome.status is Status.SUPPORTED, outcome.reason
    assert len(outcome.evidence) == 2  # two of the default three trials make the majority
    assert any("one call where two were asked" in note and "2 of 2" in note for note in outcome.notes)


def test_a_verbose_reply_cut_inside_the_helpers_budget_is_asked_again_with_a_larger_one() -> None:
    # handmade-chat-stream-length.json: llama-cpp-python's real stream of this request with its finish
    # chunk edited to "length" (no peer's reply outgrew the budget); with max_tokens 4 x 24 the real,
    # complete stream answers
    def choose(body: dict[str, Any]) -> str:
        return "handmade-chat-stream-length.json" if body["max_tokens"] == 24 else "llamacpp-chat-stream.json"

    outcome = run_with(choose, "chat.stream.sdk_helper").results["chat.stream.sdk_helper"].outcome
    assert outcome.status is Status.SUPPORTED, outcome.reason
    assert len(outcome.evidence) == 2
    assert any("max_tokens 96" in note for note in outcome.notes), outcome.notes


def test_a_reply_cut_with_the_larger_budget_too_is_skipped_never_failed() -> None:
    outcome = (
        run_with(lambda body: "handmade-chat-stream-length.json", "chat.stream.sdk_helper")
        .results["chat.stream.sdk_helper"]
        .outcome
    )
    assert outcome.status is Status.SKIPPED
    assert "at 24, then at 96" in outcome.reason and "the suite's" in outcome.reason


def test_streamed_text_worded_otherwise_with_the_same_structure_is_a_note() -> None:
    # two real recordings: llama-cpp-python's stream ("Hello! How can I help you today?", "stop") and
    # LiteLLM's completion ("Hello from the LiteLLM mock.", "stop"), for the streamed and the plain request
    def choose(body: dict[str, Any]) -> str:
        return "llamacpp-chat-stream.json" if body.get("stream") else "litellm-chat-completion.json"

    outcome = run_with(choose, "chat.stream.matches_non_stream").results["chat.stream.matches_non_stream"].outcome
    assert outcome.status is Status.SUPPORTED, outcome.reason
    assert len(outcome.evidence) == 2  # no trial repeated: the structure decided at once
    assert any("differs in wording" in note for note in outcome.notes)


def test_llamacpp_named_call_cut_at_max_tokens_is_an_unreported_cut_not_bad_arguments() -> None:
    # llamacpp-tools-named-cut.json: the real chat.tools.named answer (usage.completion_tokens 96 =
    # max_tokens, arguments stopping mid-string, finish_reason "tool_calls")
    outcome = run_with(lambda body: "llamacpp-tools-named-cut.json", "chat.tools.named").results["chat.tools.named"]
    messages = [problem.message for problem in outcome.outcome.problems]
    assert outcome.outcome.status is Status.NONCONFORMANT
    assert len(messages) == 1 and "cut by max_tokens" in messages[0] and "'tool_calls'" in messages[0]
    assert any("is not JSON" in note and "not strict" in note for note in outcome.outcome.notes)


def test_tool_call_markup_left_in_content_under_auto_is_an_unparsed_call() -> None:
    # llamacpp-tools-auto-markup.json: the real chat.tools.auto answer, a `<tool_call>` text with "stop"
    outcome = run_with(lambda body: "llamacpp-tools-auto-markup.json", "chat.tools.auto").results["chat.tools.auto"]
    assert outcome.outcome.status is Status.NONCONFORMANT
    assert "`<tool_call>` tool-call markup" in outcome.outcome.reason
    assert "did not parse" in outcome.outcome.reason
    assert len(outcome.outcome.evidence) == 1  # a server fault seen once decides: no trial repeated


# --- Prism's static Responses example -----------------------------------------------------------------

PRISM_RESPONSE = "prism-response.json"  # POST /responses, the spec's example whatever was asked


def _prism_responses(script: Script, request: Request, wfile: Any) -> None:
    """Prism's answers to the Responses routes: the example Response to every POST (`stream: true`
    included) and GET, its example input_items list, and a bare 200 with no body to DELETE."""
    if request.method == "DELETE":
        wfile.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        wfile.flush()
    elif request.path.endswith("/input_items"):
        send_json(wfile, 200, _recording("prism-response-input-items.json"))
    else:
        send_json(wfile, 200, _recording(PRISM_RESPONSE))


def run_against_prism_responses(*features: str) -> RunResult:
    return run_scripted({("*", "*"): _prism_responses}, *features)


def test_a_json_answer_to_a_responses_stream_fails_event_lines_and_passes_nothing_vacuously() -> None:
    details = (
        "responses.stream.lifecycle",
        "responses.stream.sequence_number",
        "responses.stream.deltas",
        "responses.stream.function_call_arguments",
    )
    run = run_against_prism_responses("responses.stream.event_lines", *details)
    event_lines = run.results["responses.stream.event_lines"].outcome
    assert event_lines.status is Status.NONCONFORMANT
    assert "Content-Type received 'application/json'" in " ".join(p.message for p in event_lines.problems)
    for feature_id in details:
        outcome = run.results[feature_id].outcome
        assert outcome.status is Status.SKIPPED and "no Responses event to judge" in outcome.reason, feature_id


def test_a_bare_200_to_delete_is_what_the_spec_and_the_sdk_expect() -> None:
    # Prism's DELETE /responses/{id}: 200, no body (the spec declares no content; the SDK returns None)
    outcome = run_against_prism_responses("responses.retrieve").results["responses.retrieve"].outcome
    problems = [p.message for p in outcome.problems]
    assert not any(m.startswith("DELETE") or "not JSON" in m for m in problems), problems
    # what remains is Prism's, not ours: it keeps no state, so the response is still there after DELETE
    assert outcome.status is Status.NONCONFORMANT and any("GET after DELETE: HTTP 200" in m for m in problems)


def test_a_schema_breach_inside_a_tagged_union_is_named_on_the_branch_its_type_names() -> None:
    # Prism's example Response: its output_text part lacks `logprobs`. The spec's output items and
    # content parts are unions tagged by `type`; the breach was reported on a file-search call
    # ("'queries' is a required property") and then on a refusal part, branches it never claimed.
    from conformance.openapi.published import judge_evidence
    from conformance.sdk import oracle

    base_url = "http://127.0.0.1:9"
    evidence = [
        {
            "request": {"method": "POST", "url": f"{base_url}/responses"},
            "response": {
                "status": 200,
                "headers": {"content-type": "application/json"},
                "body": _recording(PRISM_RESPONSE),
            },
        }
    ]
    messages = [problem.message for problem in judge_evidence(evidence, base_url)]
    assert "POST /responses → 200: Response $.output[0].content[0]: 'logprobs' is a required property" in messages
    assert not any("queries" in m or "refusal" in m for m in messages), messages
    # a nullable `usage` (LiteLLM's lacked cache_write_tokens, which only the newest SDK line requires;
    # every line requires cached_tokens): the breach inside it, not "is not of type 'null'"
    usage = {"input_tokens": 36, "input_tokens_details": {}, "output_tokens": 87, "total_tokens": 123}
    usage["output_tokens_details"] = {"reasoning_tokens": 0}
    broken = {**_recording(PRISM_RESPONSE), "usage": usage}
    problems = oracle.validate(broken, "Response")
    assert len(problems) == 1 and problems[0].startswith("$.usage.input_tokens_details: '"), problems
    assert problems[0].endswith("tokens' is a required property"), problems


def test_a_200_where_an_error_was_due_is_one_problem_not_also_an_error_body() -> None:
    # Prism serves an unknown model 200 with its example Response, whose own `error: null` was read
    # as an error body ("'error' is a NoneType") beside the real problem
    outcome = run_against_prism_responses("responses.errors.unknown_model").results["responses.errors.unknown_model"]
    problems = [p.message for p in outcome.outcome.problems]
    assert outcome.outcome.status is Status.NONCONFORMANT and len(problems) == 1, problems
    assert "answered HTTP 200 (no exception in the SDK), expected 404" in problems[0]


def _served(body: dict[str, Any], seen: list[dict[str, Any]]) -> Any:
    def answer(script: Script, request: Request, wfile: Any) -> None:
        seen.append(json.loads(request.body) if request.body else {})
        send_json(wfile, 200, body)

    return answer


def _run_responses(body: dict[str, Any], models: dict[str, str], *features: str) -> tuple[RunResult, list[Any]]:
    seen: list[dict[str, Any]] = []
    return run_scripted({("*", "*"): _served(body, seen)}, *features, models=models), seen


def test_the_responses_tool_features_send_the_tools_model() -> None:
    # they sent the chat model: on LiteLLM, gpt-mock (no tool calls) in place of gpt-mock-tools
    features = ("responses.tools.function", "responses.tools.round_trip", "responses.stream.function_call_arguments")
    _, seen = _run_responses(_recording(PRISM_RESPONSE), {"chat": "chat-m", "tools": "tools-m"}, *features)
    assert seen and {body.get("model") for body in seen} == {"tools-m"}


def test_a_response_the_strict_sdk_rejects_is_not_blamed_again_for_its_output_text() -> None:
    # LiteLLM's Response: usage without cache_write_tokens (here without cached_tokens, which every SDK
    # line requires). The strict parse failed, and the check then also reported "response.output_text:
    # received None" from the object it never got
    usage = {"input_tokens": 36, "input_tokens_details": {}, "output_tokens": 87, "total_tokens": 123}
    body = {**_recording(PRISM_RESPONSE), "usage": {**usage, "output_tokens_details": {"reasoning_tokens": 0}}}
    run, _ = _run_responses(body, {"chat": "m"}, "responses.create.shape")
    outcome = run.results["responses.create.shape"].outcome
    messages = [p.message for p in outcome.problems]
    assert outcome.status is Status.NONCONFORMANT and any("cached_tokens" in m for m in messages)
    assert not any("output_text" in m for m in messages), messages


def _answer_recorded(exchange: dict[str, Any]) -> Any:
    body = exchange.get("body_text", "").encode() if "body_text" in exchange else json.dumps(exchange["body"]).encode()

    def answer(script: Script, request: Request, wfile: Any) -> None:
        wfile.write(response_bytes(exchange["status"], exchange["content_type"], body))
        wfile.flush()

    return answer


def test_a_failure_before_the_features_own_request_names_the_request_that_failed() -> None:
    # LiteLLM without files_settings: the batch input upload answered 500, then the suite's probe
    # GET /batches?limit=1 answered 500 too. batches.create read "HTTP 500 ... (500 Internal Server
    # Error)", as if POST /batches (never sent) had failed
    recorded = json.loads((WIRE / "litellm-files-unconfigured.json").read_text())["exchanges"]
    routes = {tuple(exchange["request"].split(" ")): _answer_recorded(exchange) for exchange in recorded}
    run = run_scripted(routes, "batches.create", "batches.cancel", "files.upload", "files.retrieve")
    for feature_id in ("batches.create", "batches.cancel"):
        # batches.cancel cites the upload and the probe batches.create sent: the request named is the
        # one whose answer is quoted (the reference mock's FlexAI profile once had it name POST /files
        # beside the body of GET /batches)
        batch = run.results[feature_id].outcome
        assert batch.status is Status.NONCONFORMANT
        assert batch.reason.startswith("GET /batches?limit=1: HTTP 500 (SDK raises InternalServerError"), batch.reason
        assert batch.reason.endswith("(500 Internal Server Error)"), batch.reason
    # a feature whose own request failed is not prefixed; one that needed another's is
    upload = run.results["files.upload"].outcome
    assert upload.status is Status.NONCONFORMANT and upload.reason.startswith("HTTP 500"), upload.reason
    retrieve = run.results["files.retrieve"].outcome
    assert retrieve.reason.startswith("POST /files: HTTP 500") and "files_settings" in retrieve.reason, retrieve.reason


def test_a_union_member_tagged_otherwise_is_named_by_its_tag_not_as_a_null_expected() -> None:
    # Prism's transcription example, answered for verbose_json too: its usage is the token kind, where
    # TranscriptionVerbose's usage is the duration kind or null; the breach read "$.usage: {...} is not
    # of type 'null'", the one branch the value is not even of the kind of
    body = json.loads((WIRE / "prism-transcription.json").read_text())["body"]
    assert oracle.validate({**body, "duration": 1.0, "language": "en", "segments": []}, "TranscriptionVerbose") == [
        "$.usage.type: 'duration' was expected"
    ]


def test_a_cancel_answered_with_another_status_is_judged_without_waiting_for_the_batch() -> None:
    # Prism answers the cancel with its static batch, 'validating': nonconformant at once. The check
    # then polled that batch for 28 s (BATCH_WAIT_S) to see it cancelled, which could decide nothing
    recorded = json.loads((WIRE / "prism-batch.json").read_text())
    polls: list[str] = []

    def batch(script: Script, request: Request, wfile: Any) -> None:
        if request.method == "GET":
            polls.append(request.path)
        send_json(wfile, 200, recorded["batch"])

    routes: dict[tuple[str, str], Any] = {
        ("POST", "/v1/files"): lambda script, request, wfile: send_json(wfile, 200, recorded["file"]),
        ("POST", "/v1/batches"): batch,
        ("POST", "/v1/batches/string/cancel"): batch,
        ("GET", "/v1/batches/string"): batch,
    }
    run = run_scripted(routes, "batches.cancel")
    outcome = run.results["batches.cancel"].outcome
    assert outcome.status is Status.NONCONFORMANT
    assert "answered status 'validating', expected 'cancelling'" in outcome.reason
    assert polls == []


def test_a_request_read_only_for_a_note_decides_no_root_cause() -> None:
    # LiteLLM: responses.metadata failed on the POST's metadata {}, and its GET /responses/{id}, read
    # only to note whether the stored Response kept it, got the dead upstream's 500. The run's causes
    # grouped the feature with the features that fail on that 500 (cause-7), by a request that
    # judged nothing there
    recorded = json.loads((WIRE / "litellm-responses-metadata.json").read_text())

    def responses(script: Script, request: Request, wfile: Any) -> None:
        if request.method == "GET":
            send_json(wfile, 500, recorded["get"])
        else:
            send_json(wfile, 200, recorded["post"])

    run = run_scripted({("*", "*"): responses}, "responses.metadata", "responses.retrieve", "responses.store_false")
    results = build_results(run, load_catalog())
    features = results["features"]
    assert features["responses.metadata"]["status"] == "nonconformant"
    noted = [e for e in features["responses.metadata"]["evidence"] if e["request"]["method"] == "GET"]
    assert noted and "judges nothing" in noted[0]["note"]
    grouped = {fid for cause in results["causes"] for fid in cause["features"]}
    assert "responses.metadata" not in grouped
    assert {"responses.retrieve", "responses.store_false"} <= grouped  # their own GETs failed on the 500


def test_the_request_named_is_the_one_whose_answer_is_quoted_whatever_the_order_of_the_evidence() -> None:
    # On the reference mock's FlexAI profile batches.cancel uploaded its own file (POST /files, 404)
    # after batches.create's probe GET /batches (404) had been sent, and re-raised that probe's
    # answer, which it shares: the reason named the last 404, POST /files, beside GET's answer
    files_404 = json.dumps({"error": {"message": "Invalid URL (POST /v1/files)", "type": "invalid_request_error"}})
    batches_404 = json.dumps({"error": {"message": "Invalid URL (GET /v1/batches)", "type": "invalid_request_error"}})
    base = "http://127.0.0.1:9/v1"
    own = RecordedExchange(
        "POST", f"{base}/files", [], b"", started=2.0, status=404, body=bytearray(files_404.encode())
    )
    cited = RecordedExchange(
        "GET", f"{base}/batches?limit=1", [], b"", started=1.0, status=404, body=bytearray(batches_404.encode())
    )
    catalog = load_catalog()
    with Engine(Target(base, Secret("sk-test"), {"chat": "m"}, timeouts=TEST_TIMEOUTS), catalog) as engine:
        error = StatusError(decode_error_body(404, "application/json", batches_404.encode()))
        decided_by = _answering([cited, own], error.body)
        outcome = engine._judge_status(error, [cited, own], catalog.features["batches.cancel"], decided_by)
    assert decided_by is cited  # which also goes last in the evidence, where the root causes read it
    assert outcome.status is Status.UNSUPPORTED
    assert outcome.reason.startswith("declined GET /batches?limit=1: 404"), outcome.reason
