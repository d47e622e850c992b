"""Quirks only the strict reading detects: keys OpenAI's published schemas require (nullable) left out.

openai-python reads each of these answers without complaint (its models give an absent optional key
its default, None), so every feature stays supported in the compatible reading: the quirks are
benign there. The published spec requires the keys, null or not, so the strict oracle
(``conformance/openapi``) finds them in the evidence of every feature that recorded such an answer:
``detects_strict`` names those features, and ``tests/test_quirks.py`` holds each quirk to exactly
them in the strict reading and to nothing in the compatible one.
"""

from __future__ import annotations

import copy
from typing import Any

from conformance.mock.chat.request import ChatRequest
from conformance.mock.effects import Effects
from conformance.mock.quirks._model import Quirk, detected
from conformance.mock.quirks._shared import Chunks, each_choice, each_message

# Features whose evidence holds a non-streamed chat completion without logprobs (a check that adds such
# a request to its evidence joins this list: tests/test_quirks.py says so when it is missing).
COMPLETION_EVIDENCE = (
    "chat.basic",
    "chat.max_completion_tokens.length",
    "chat.max_tokens.length",
    "chat.messages.content_parts",
    "chat.messages.developer",
    "chat.messages.image_url",
    "chat.messages.multi_turn",
    "chat.messages.name",
    "chat.messages.system",
    "chat.n",
    "chat.params.identifiers",
    "chat.params.logit_bias",
    "chat.params.penalties",
    "chat.params.reasoning_effort",
    "chat.params.temperature",
    "chat.params.top_p",
    "chat.parse",
    "chat.response.system_fingerprint",
    "chat.response_format.json_object",
    "chat.response_format.json_schema",
    "chat.response_format.text",
    "chat.seed",
    "chat.stop.array",
    "chat.stop.string",
    "chat.stream.matches_non_stream",
    "chat.tools.auto",
    "chat.tools.foreign_ids",
    "chat.tools.loop",
    "chat.tools.minimal_definition",
    "chat.tools.named",
    "chat.tools.none",
    "chat.tools.parallel",
    "chat.tools.parallel_false",
    "chat.tools.required",
    "chat.tools.strict",
    "chat.usage",
    "errors.request_id",
    "http.redirect.post",
    "http.redirect.same_origin",
)
# ... and the one whose completion asks for logprobs (so its choices carry them)
LOGPROBS_EVIDENCE = ("chat.logprobs",)
# Features whose evidence holds a streamed chat completion.
STREAM_EVIDENCE = (
    "chat.stream.chunk_object",
    "chat.stream.content_type",
    "chat.stream.done_sentinel",
    "chat.stream.finish_reason",
    "chat.stream.include_usage",
    "chat.stream.matches_non_stream",
    "chat.stream.no_unrequested_usage",
    "chat.stream.role_first_delta",
    "chat.stream.sdk_helper",
    "chat.stream.sdk_iteration",
    "chat.stream.sse_framing",
    "chat.stream.stable_id",
    "chat.tools.stream",
    "chat.tools.stream_helper",
)


def _drop_if_null(holder: dict[str, Any], key: str) -> None:
    if key in holder and holder[key] is None:
        del holder[key]


def _omit_null_logprobs(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    body = copy.deepcopy(body)
    for choice in body.get("choices") or ():
        _drop_if_null(choice, "logprobs")
    return body


def _omit_null_refusal(body: dict[str, Any], request: ChatRequest) -> dict[str, Any]:
    return each_message(body, lambda message: _drop_if_null(message, "refusal"))


def _omit_null_finish_reason(chunks: Chunks, request: ChatRequest) -> Chunks:
    return each_choice(chunks, lambda choice: _drop_if_null(choice, "finish_reason"))


TABLE: tuple[Quirk, ...] = (
    Quirk(
        "strict.choice_logprobs_absent",
        "chat",
        "Choices of a chat completion leave out `logprobs` when there are none, instead of `logprobs: null` "
        "(the spec requires the key).",
        "https://github.com/openai-php/client/pull/554 (Gemini's OpenAI layer), "
        "https://github.com/Oaklight/llm-rosetta/pull/445",
        Effects(completion=_omit_null_logprobs),
        detects_strict=detected(COMPLETION_EVIDENCE),
    ),
    Quirk(
        "strict.message_refusal_absent",
        "chat",
        "The assistant message leaves out `refusal` when there is none, instead of `refusal: null` "
        "(the spec requires the key).",
        "https://github.com/Oaklight/llm-rosetta/pull/428 (DeepSeek's messages carry only content and role)",
        Effects(completion=_omit_null_refusal),
        detects_strict=detected(COMPLETION_EVIDENCE, LOGPROBS_EVIDENCE),
    ),
    Quirk(
        "strict.chunk_finish_reason_absent",
        "streaming",
        "Chunks before the last leave out `finish_reason` instead of `finish_reason: null`; the last chunk "
        "carries it (the spec requires the key in every chunk).",
        "https://github.com/vllm-project/vllm/issues/19650, https://github.com/BerriAI/liteLLM-proxy/issues/19, "
        "https://github.com/danny-avila/LibreChat/pull/5563 (AWS Bedrock)",
        Effects(chunks=_omit_null_finish_reason),
        detects_strict=detected(STREAM_EVIDENCE),
    ),
)
