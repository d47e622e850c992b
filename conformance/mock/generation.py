"""Turning a chat request into what the mock "generates": per choice, tokens and a finish reason."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from conformance.mock.content import count_tokens, fingerprint, generate_tokens
from conformance.mock.requests import ChatRequest

_PIECES = re.compile(r"\s*\S+")


@dataclass(frozen=True)
class Plan:
    tokens: tuple[str, ...]
    finish_reason: str

    @property
    def text(self) -> str:
        return "".join(self.tokens)

    @property
    def completion_tokens(self) -> int:
        return count_tokens(self.text)

    def truncated(self, limit: int) -> Plan:
        return replace(self, tokens=self.tokens[:limit], finish_reason="length")


def plan_choice(request: ChatRequest, index: int) -> Plan:
    """Generate, honour the stop sequences, then the token limit (whichever comes first)."""
    tokens = generate_tokens(fingerprint({"request": request.generation_key(), "choice": index}))
    text = "".join(tokens)
    cut = min((text.find(stop) for stop in request.stop if stop in text), default=-1)
    if cut >= 0:
        tokens = _PIECES.findall(text[:cut])
    plan = Plan(tuple(tokens), "stop")
    if request.max_tokens is not None and len(plan.tokens) > request.max_tokens:
        plan = plan.truncated(request.max_tokens)
    return plan
