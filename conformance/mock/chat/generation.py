"""What the mock "generates" for one choice: content pieces or tool calls, and a finish reason.

The reference mock is deterministic: a hash of the request (minus transport and limits) seeds
everything, so the same request gets the same answer whether streamed or not (:func:`plan_choice`).

A sampling model is not (:func:`sample_choice`): the model-behaviour quirks
(``mock/quirks/model_behaviour.py``) turn the knobs of :class:`Sampling` (longer replies, fresh draws,
arguments left out, text under ``auto``), and a :class:`Sampler` seeded by the mock's seed gives each
choice its random source. A request that sends ``seed`` or ``temperature: 0`` is answered
deterministically even then (the seed seeds the sampler; temperature 0 is greedy decoding), as
inference servers with seed support do; any other request is a fresh draw, so identical requests,
and a streamed and a non-streamed one, differ in wording. What a sampling model never does is
break what the server controls: a forced call is always made, a ``strict: true`` schema always
followed, the stop sequences and the token limit always honoured and reported.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from conformance.mock.chat.request import ChatRequest, FunctionTool
from conformance.mock.content import VOCABULARY, fingerprint, generate_tokens
from conformance.mock.json_schema import InstanceGenerator

# prose: a word and the whitespace before it is a token (the Responses stream splits replies the same way)
TEXT_PIECES = re.compile(r"\s*\S+")
# JSON and tool arguments: words, numbers and punctuation each a token, whitespace attached
JSON_PIECES = re.compile(r"\s*(?:[\w.+-]+|[^\w\s])")


@dataclass(frozen=True)
class ToolCallPlan:
    id: str
    name: str
    arguments: str
    custom: bool = False

    def pieces(self) -> list[str]:
        return JSON_PIECES.findall(self.arguments) or [self.arguments]


@dataclass(frozen=True)
class Plan:
    tokens: tuple[str, ...]
    finish_reason: str
    tool_calls: tuple[ToolCallPlan, ...] = ()
    choice: int = 0  # the index of the choice it answers (n > 1 asks for several)

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
    return _calls_plan(request, calls)


def _calls_plan(request: ChatRequest, calls: tuple[ToolCallPlan, ...]) -> Plan:
    """The calls, cut at the token limit (finish_reason 'length') when they do not fit."""
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


def _at_length(request: ChatRequest, sentence: Callable[[int], list[str]]) -> list[str]:
    """Sentences until the words the prompt asked for are written (one sentence when it asked none)."""
    tokens = sentence(0)
    while len(tokens) < request.asked_words:
        more = sentence(len(tokens))
        tokens += [" " + more[0], *more[1:]]
    return tokens


def _content_tokens(request: ChatRequest, seed: bytes) -> list[str]:
    words = _at_length(
        request, lambda n: generate_tokens(seed + (n.to_bytes(4, "big") if n else b""), request.banned_words)
    )
    kind = request.response_format.get("type")
    if kind == "text":
        return words
    if kind == "json_object":
        value: Any = {"answer": "".join(words).strip()}
    else:
        schema = request.response_format["json_schema"].get("schema", {"type": "object"})
        value = InstanceGenerator(schema, seed).instance(schema)
    return JSON_PIECES.findall(json.dumps(value, ensure_ascii=False))


def _text_plan(request: ChatRequest, tokens: list[str], choice: int) -> Plan:
    """Honour the stop sequences, then the token limit (whichever comes first)."""
    text = "".join(tokens)
    cut = min((text.find(stop) for stop in request.stop if stop in text), default=-1)
    if cut >= 0:
        tokens = TEXT_PIECES.findall(text[:cut])
    plan = Plan(tuple(tokens), "stop", choice=choice)
    if request.max_tokens is not None and len(plan.tokens) > request.max_tokens:
        plan = plan.truncated(request.max_tokens)
    return plan


def plan_choice(request: ChatRequest, index: int) -> Plan:
    """Generate, honour the stop sequences, then the token limit (whichever comes first)."""
    seed = fingerprint({"request": request.generation_key(), "choice": index})
    tool_plan = _tool_plan(request, seed)
    if tool_plan is not None:
        return replace(tool_plan, choice=index)
    return _text_plan(request, _content_tokens(request, seed), index)


# --- a sampling model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Sampling:
    """How a sampling model departs from the reference mock's answers. Each model-behaviour quirk
    turns one knob; the defaults are the reference mock (one sentence, the same answer every time)."""

    # identical requests are fresh draws (unless they send seed or temperature 0: see deterministic())
    varies: bool = False
    # prose replies, in sentences of 8 to 15 words (min, max)
    sentences: tuple[int, int] = (1, 1)
    # the chance that each optional argument (or optional property of a non-strict schema) is left out
    omit_optional: float = 0.0
    # non-strict tools and schemas only: the chance that one required property of several is left out
    omit_required: float = 0.0
    # tool_choice "auto": the chance of answering in text instead of calling
    text_under_auto: float = 0.0
    # several tools and parallel calls allowed: the chance of calling only one of them
    fewer_parallel_calls: float = 0.0
    # json_object: an object of the model's own shape, instead of {"answer": ...}
    free_json: bool = False

    def merged(self, other: Sampling) -> Sampling:
        """These knobs with every knob ``other`` turns (its non-default values win)."""
        default = Sampling()
        changed = {
            f.name: getattr(other, f.name) for f in fields(other) if getattr(other, f.name) != getattr(default, f.name)
        }
        return replace(self, **changed)


def deterministic(request: ChatRequest) -> bool:
    """A request a sampling model answers the same way every time: it sends a seed (which seeds the
    sampler) or temperature 0 (greedy decoding)."""
    return request.raw.get("seed") is not None or request.raw.get("temperature") == 0


class Sampler:
    """The random source of each choice a sampling model answers, from the mock's seed.

    A deterministic request (or a model that does not vary) draws from the request alone, so it is
    answered the same way every time, streamed or not; any other request draws from the request and
    how often this server was asked it before, so identical requests differ and a run is still
    reproducible from the seed. The counts are bounded (the oldest forgotten first).
    """

    KEPT = 4096

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._asked: OrderedDict[bytes, int] = OrderedDict()

    def draw(self, request: ChatRequest, choice: int, varies: bool) -> random.Random:
        key = fingerprint({"mock-seed": self.seed, "request": request.generation_key(), "choice": choice})
        if varies and not deterministic(request):
            asked = self._asked.pop(key, 0)
            self._asked[key] = asked + 1
            while len(self._asked) > self.KEPT:
                self._asked.popitem(last=False)
            key = fingerprint([key.hex(), asked])
        return random.Random(int.from_bytes(key, "big"))


def _prose(request: ChatRequest, sampling: Sampling, rng: random.Random) -> list[str]:
    low, high = sampling.sentences
    tokens: list[str] = []
    for _ in range(rng.randint(low, high)):
        sentence = generate_tokens(rng.randbytes(16), request.banned_words)
        if tokens:
            sentence[0] = " " + sentence[0]
        tokens += sentence
    while len(tokens) < request.asked_words:
        sentence = generate_tokens(rng.randbytes(16), request.banned_words)
        tokens += [" " + sentence[0], *sentence[1:]]
    return tokens


def _with_every_property(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with all its top-level properties required: the instance a model would like to fill."""
    properties = schema.get("properties")
    return {**schema, "required": list(properties)} if isinstance(properties, dict) else schema


def _loosened(value: Any, schema: dict[str, Any], strict: bool, sampling: Sampling, rng: random.Random) -> Any:
    """What a model makes of a schema it is not held to: optional properties, and now and then a
    required one of several, left out. Under ``strict: true`` the schema is followed exactly."""
    if strict or not isinstance(value, dict):
        return value
    required = [name for name in schema.get("required") or () if name in value]
    kept = {name: v for name, v in value.items() if name in required or rng.random() >= sampling.omit_optional}
    if len(required) >= 2 and rng.random() < sampling.omit_required:
        kept.pop(rng.choice(required))
    return kept


def _schema_instance(schema: dict[str, Any], strict: bool, sampling: Sampling, rng: random.Random) -> Any:
    full = _with_every_property(schema)
    value = InstanceGenerator(full, rng.randbytes(16)).instance(full)
    return _loosened(value, schema, strict, sampling, rng)


def _free_json(request: ChatRequest, rng: random.Random) -> dict[str, Any]:
    """A small JSON object of the model's own choosing, as json_object mode leaves the shape open."""
    words = [word for word in VOCABULARY if word not in request.banned_words] or list(VOCABULARY)
    phrase = " ".join(rng.choice(words) for _ in range(rng.randint(2, 6)))
    shape = rng.randrange(3)
    if shape == 0:
        return {"answer": phrase}
    if shape == 1:
        return {rng.choice(words): rng.choice(words), "count": rng.randint(1, 9)}
    return {"result": {"text": phrase, "score": round(rng.random(), 2)}}


def _sampled_tool_plan(request: ChatRequest, sampling: Sampling, rng: random.Random) -> Plan | None:
    if not request.tools or request.tool_choice == "none":
        return None
    if request.tool_choice == "auto" and request.last_role == "tool":
        return None  # the tool answered: now the model answers the user
    if request.tool_choice == "auto" and rng.random() < sampling.text_under_auto:
        return None  # "auto" lets the model answer in text
    tools = list(request.tools)
    if request.named_tool:
        chosen = [t for t in tools if t.name == request.named_tool]
    elif len(tools) > 1 and (not request.parallel_tool_calls or rng.random() < sampling.fewer_parallel_calls):
        chosen = [rng.choice(tools)]
    else:
        chosen = tools if request.parallel_tool_calls else tools[:1]
    custom_names = {t["custom"]["name"] for t in request.raw.get("tools") or () if t.get("type") == "custom"}
    calls = []
    for i, tool in enumerate(chosen):
        if tool.parameters.get("type") == "string":  # a custom (free-form) tool takes a string input
            arguments = " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(1, 4)))
        else:
            value = _schema_instance(tool.parameters, tool.strict, sampling, rng)
            arguments = json.dumps(value, ensure_ascii=False)
        calls.append(ToolCallPlan(_call_id(rng.randbytes(16), i), tool.name, arguments, tool.name in custom_names))
    return _calls_plan(request, tuple(calls))


def _sampled_content(request: ChatRequest, sampling: Sampling, rng: random.Random) -> list[str]:
    kind = request.response_format.get("type")
    if kind == "text":
        return _prose(request, sampling, rng)
    if kind == "json_object":
        one_sentence = replace(sampling, sentences=(1, 1))
        value: Any = (
            _free_json(request, rng) if sampling.free_json else {"answer": "".join(_prose(request, one_sentence, rng))}
        )
    else:
        json_schema = request.response_format["json_schema"]
        schema = json_schema.get("schema", {"type": "object"})
        value = _schema_instance(schema, bool(json_schema.get("strict")), sampling, rng)
    return JSON_PIECES.findall(json.dumps(value, ensure_ascii=False))


def sample_choice(request: ChatRequest, index: int, sampling: Sampling, rng: random.Random) -> Plan:
    """What a sampling model answers for one choice: its own words, calls and arguments, within
    everything the server enforces (forced calls, strict schemas, stop sequences, the token limit)."""
    tool_plan = _sampled_tool_plan(request, sampling, rng)
    if tool_plan is not None:
        return replace(tool_plan, choice=index)
    return _text_plan(request, _sampled_content(request, sampling, rng), index)


def logprob_entry(token: str, top: int) -> dict[str, Any]:
    """A deterministic logprob for a token, with ``top`` alternatives (the token itself first)."""
    digest = hashlib.sha256(token.encode()).digest()
    logprob = -round(0.001 + digest[0] / 1000, 4)
    alternatives = [{"token": token, "logprob": logprob, "bytes": list(token.encode())}]
    for rank in range(1, top):
        word = " " + VOCABULARY[(digest[rank % len(digest)] + rank) % len(VOCABULARY)]
        alternatives.append({"token": word, "logprob": round(logprob - rank * 0.75, 4), "bytes": list(word.encode())})
    return {"token": token, "logprob": logprob, "bytes": list(token.encode()), "top_logprobs": alternatives[:top]}
