"""What the mock "generates" for one choice: content pieces or tool calls, and a finish reason.

Deterministic: a hash of the request (minus transport and limits) seeds everything, so the same
request gets the same answer whether streamed or not.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from typing import Any

from conformance.mock.chat.request import ChatRequest, FunctionTool
from conformance.mock.content import VOCABULARY, fingerprint, generate_tokens
from conformance.mock.json_schema import InstanceGenerator

_TEXT_PIECES = re.compile(r"\s*\S+")
# JSON and tool arguments: words, numbers and punctuation each a token, whitespace attached
_JSON_PIECES = re.compile(r"\s*(?:[\w.+-]+|[^\w\s])")


@dataclass(frozen=True)
class ToolCallPlan:
    id: str
    name: str
    arguments: str
    custom: bool = False

    def pieces(self) -> list[str]:
        return _JSON_PIECES.findall(self.arguments) or [self.arguments]


@dataclass(frozen=True)
class Plan:
    tokens: tuple[str, ...]
    finish_reason: str
    tool_calls: tuple[ToolCallPlan, ...] = ()

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    @property
    def content(self) -> str | None:
        return None if self.tool_calls and not self.tokens else self.text

    @property
    def completion_tokens(self) -> int:
        return len(self.tokens) + sum(len(call.pieces()) for call in self.tool_calls)

    def truncated(self, limit: int) -> Plan:
        return replace(self, tokens=self.tokens[:limit], finish_reason="length")


def _call_id(seed: bytes, index: int) -> str:
    return "call_" + hashlib.sha256(seed + bytes([index])).hexdigest()[:24]


def _arguments(tool: FunctionTool, seed: bytes) -> str:
    if tool.parameters.get("type") == "string":  # a custom (free-form) tool takes a string input
        return VOCABULARY[seed[0] % len(VOCABULARY)]
    value = InstanceGenerator(tool.parameters, seed).instance(tool.parameters)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _tool_plan(request: ChatRequest, seed: bytes) -> Plan | None:
    if not request.tools or request.tool_choice == "none":
        return None
    if request.tool_choice == "auto" and request.last_role == "tool":
        return None  # the tool answered: now the model answers the user
    if request.named_tool:
        chosen = [t for t in request.tools if t.name == request.named_tool]
    else:
        chosen = list(request.tools) if request.parallel_tool_calls else list(request.tools[:1])
    custom_names = {t["custom"]["name"] for t in request.raw.get("tools") or () if t.get("type") == "custom"}
    calls = tuple(
        ToolCallPlan(_call_id(seed, i), tool.name, _arguments(tool, seed + bytes([i])), tool.name in custom_names)
        for i, tool in enumerate(chosen)
    )
    # OpenAI reports 'stop' when one named function was forced, 'tool_calls' otherwise
    plan = Plan((), "stop" if request.named_tool else "tool_calls", calls)
    if request.max_tokens is not None and plan.completion_tokens > request.max_tokens:
        budget, kept = request.max_tokens, []
        for call in calls:
            pieces = call.pieces()[:budget]
            budget -= len(pieces)
            kept.append(replace(call, arguments="".join(pieces)))
            if budget <= 0:
                break
        plan = Plan((), "length", tuple(kept))
    return plan


def _content_tokens(request: ChatRequest, seed: bytes) -> list[str]:
    words = generate_tokens(seed, request.banned_words)
    kind = request.response_format.get("type")
    if kind == "text":
        return words
    if kind == "json_object":
        value: Any = {"answer": "".join(words).strip()}
    else:
        schema = request.response_format["json_schema"].get("schema", {"type": "object"})
        value = InstanceGenerator(schema, seed).instance(schema)
    return _JSON_PIECES.findall(json.dumps(value, ensure_ascii=False))


def plan_choice(request: ChatRequest, index: int) -> Plan:
    """Generate, honour the stop sequences, then the token limit (whichever comes first)."""
    seed = fingerprint({"request": request.generation_key(), "choice": index})
    tool_plan = _tool_plan(request, seed)
    if tool_plan is not None:
        return tool_plan
    tokens = _content_tokens(request, seed)
    text = "".join(tokens)
    cut = min((text.find(stop) for stop in request.stop if stop in text), default=-1)
    if cut >= 0:
        tokens = _TEXT_PIECES.findall(text[:cut])
    plan = Plan(tuple(tokens), "stop")
    if request.max_tokens is not None and len(plan.tokens) > request.max_tokens:
        plan = plan.truncated(request.max_tokens)
    return plan


def logprob_entry(token: str, top: int) -> dict[str, Any]:
    """A deterministic logprob for a token, with ``top`` alternatives (the token itself first)."""
    digest = hashlib.sha256(token.encode()).digest()
    logprob = -round(0.001 + digest[0] / 1000, 4)
    alternatives = [{"token": token, "logprob": logprob, "bytes": list(token.encode())}]
    for rank in range(1, top):
        word = " " + VOCABULARY[(digest[rank % len(digest)] + rank) % len(VOCABULARY)]
        alternatives.append({"token": word, "logprob": round(logprob - rank * 0.75, 4), "bytes": list(word.encode())})
    return {"token": token, "logprob": logprob, "bytes": list(token.encode()), "top_logprobs": alternatives[:top]}
