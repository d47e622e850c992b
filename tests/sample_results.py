"""A hand-made results.json document, shared by the tests of every report format."""

from __future__ import annotations

from typing import Any

from conformance.open_responses import FeatureStatus, score
from conformance.verdict import Status

EXCHANGE = {
    "request": {
        "method": "POST",
        "url": "https://api.vendor.example/v1/chat/completions",
        "headers": {"authorization": "Bearer ***"},
        "body": {"model": "m", "n": 2},
    },
    "response": {
        "status": 400,
        "headers": {"content-type": "application/json"},
        "body": {"error": {"message": "n must be 1", "type": "invalid_request_error", "param": "n", "code": None}},
    },
}


# what the strict oracle (OpenAI's published schemas) says of a chunk the SDK reads without complaint
STRICT_PROBLEM = {
    "schema": "CreateChatCompletionStreamResponse",
    "message": "POST /chat/completions → 200, 9 of 10 chunks from chunk 1: CreateChatCompletionStreamResponse "
    "$.choices[0]: 'finish_reason' is a required property",
}


def feature(status: str, level: str, area: str, reason: str, **extra: Any) -> dict[str, Any]:
    entry = {
        "status": status,
        "level": level,
        "title": f"Title of {reason[:10]}",
        "area": area,
        "endpoint": "POST /chat/completions",
        "oracle": "wire" if status != "skipped" else None,
        "reason": reason,
        "duration_s": 0.01,
        "evidence": [EXCHANGE] if status in ("nonconformant", "unsupported") else [],
    }
    entry.update(extra)
    return entry


def sample_results() -> dict[str, Any]:
    """A hand-made results document with one feature of every status (fresh on each call)."""
    return {
        "schema_version": 1,
        "tool": {"name": "openai-conformance", "version": "0.1.0"},
        "sdk": {"package": "openai", "version": "3.54.0"},
        "target": {"base_url": "https://api.vendor.example/v1", "models": {"chat": "vendor/chat-1"}, "name": "Vendor"},
        "started_at": "2026-11-22T10:00:00Z",
        "duration_s": 4.2,
        "requests": 31,
        "completion_tokens_requested": 211,
        "summary": {"supported": 2, "unsupported": 1, "nonconformant": 1, "skipped": 1, "error": 1},
        "certified": False,
        "areas": {"chat": "Chat completions", "streaming": "Streaming (SSE)"},
        "readings": {
            "strict": {
                "summary": {"supported": 1, "unsupported": 1, "nonconformant": 2, "skipped": 1, "error": 1},
                "beyond_compatible": ["chat.stream.include_usage"],
                "oracle": {"name": "OpenAI's published OpenAPI schemas", "sha256": "0" * 64, "version": "2.3.0"},
            }
        },
        "features": {
            "chat.basic": feature(
                "supported",
                "required",
                "chat",
                "parses in the strict SDK",
                notes=["vendor extension fields on the completion: x_vendor"],
            ),
            "chat.n": feature(
                "unsupported", "optional", "chat", "declined: 400 invalid_request_error param=n: n must be 1"
            ),
            "chat.stream.done_sentinel": feature(
                "nonconformant",
                "required",
                "streaming",
                "the stream ends without `data: [DONE]` | pipe",
                problems=[{"oracle": "wire", "message": "the stream ends without `data: [DONE]`"}],
            ),
            "chat.stream.include_usage": feature(
                "supported",
                "recommended",
                "streaming",
                "one usage chunk",
                readings={
                    "compatible": {"status": "supported"},
                    "strict": {"status": "nonconformant", "problems": [STRICT_PROBLEM]},
                },
            ),
            "embeddings.basic": feature("skipped", "required", "embeddings", "no embeddings model configured"),
            "chat.usage": feature("error", "required", "chat", "could not connect to the target"),
        },
    }


# an Open Responses alias table over the sample's features: one test passes, one fails, one is not
# tested (its feature skipped), one is not covered and one not applicable (neither counted)
OPEN_RESPONSES_TABLE: dict[str, Any] = {
    "source": "https://github.com/openresponses/openresponses/blob/main/src/lib/compliance-tests.ts",
    "tests": [
        {"id": "basic-response", "name": "Basic Text Response", "checks": "one message", "features": ["chat.basic"]},
        {
            "id": "streaming-response",
            "name": "Streaming Response",
            "checks": "the same, streamed",
            "features": ["chat.basic", "chat.stream.done_sentinel"],
        },
        {"id": "image-input", "name": "Image Input", "checks": "an image", "features": ["embeddings.basic"]},
        {"id": "file-input", "name": "File Input", "checks": "a PDF", "not_covered": "no feature sends files"},
        {"id": "file-search", "name": "File Search", "checks": "a hosted tool", "not_applicable": "a hosted tool"},
    ],
    "not_applicable": {"POST /responses/compact": "OpenAI's own compaction"},
}


def open_responses_score(results: dict[str, Any], table: dict[str, Any] = OPEN_RESPONSES_TABLE) -> dict[str, Any]:
    """The score judge_document would give the document's features (their compatible verdicts)."""
    verdicts = {f: FeatureStatus(Status(v["status"]), v["reason"]) for f, v in results["features"].items()}
    return score(table, verdicts, "compatible")


def docs_results() -> dict[str, Any]:
    """``sample_results()`` with a docs layout, extension fields and a vendor's claims: what the docs
    page, the comparison and the step summary are pinned with."""
    results = sample_results()
    results["features"]["chat.basic"]["extensions"] = [
        "ChatCompletion.usage.cache_read_input_tokens",
        "ChatCompletion.x_vendor",
    ]
    results["features"]["chat.n"]["claim"] = {"claimed": "unsupported", "agrees": True}
    results["features"]["chat.stream.done_sentinel"]["claim"] = {"claimed": "supported", "agrees": False}
    results["features"]["chat.stream.done_sentinel"]["troubleshooting"] = [
        {"id": "stream.no_done", "symptom": "streams never end", "fix": "send data: [DONE]"}
    ]
    results["claims"] = {
        "supported": ["chat.*"],
        "unsupported": ["chat.n"],
        "disagreements": ["chat.stream.done_sentinel"],
    }
    results["gate"] = {"passes": False, "failures": ["chat.stream.done_sentinel: claimed supported, broken"]}
    results["docs"] = [
        {
            "title": "Request fields",
            "column": "Field",
            "rows": [
                {"id": "request.basics", "label": "model, messages", "features": ["chat.basic"]},
                {"id": "request.n", "label": "n", "features": ["chat.n"]},
                {
                    "id": "request.streaming",
                    "label": "stream",
                    "features": ["chat.stream.done_sentinel", "chat.stream.include_usage"],
                },
                {"id": "request.mixed", "label": "basics and n", "features": ["chat.basic", "chat.n"]},
                {"id": "request.embeddings", "label": "embeddings", "features": ["embeddings.basic"]},
            ],
        },
        {
            "title": "Response fields",
            "column": "Field",
            "rows": [
                {
                    "id": "response.usage",
                    "label": "usage extensions",
                    "features": ["chat.basic"],
                    "extensions": "ChatCompletion.usage.",
                },
                {
                    "id": "response.other",
                    "label": "other extensions",
                    "features": ["chat.basic"],
                    "extensions": "ChatCompletion.",
                },
                {
                    "id": "response.models",
                    "label": "model extensions",
                    "features": ["chat.basic"],
                    "extensions": "Model.",
                },
            ],
        },
    ]
    results["open_responses"] = open_responses_score(results)
    return results
