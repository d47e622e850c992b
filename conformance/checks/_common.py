"""What the check modules share to send requests and read answers: payloads, request helpers,
readers of the answers.

Against real models content is not deterministic, so requests force what can be forced
(``temperature: 0``, a ``seed``: ``STABLE``; tiny ``max_tokens``) and checks assert structure, not
wording. Requests that several features judge are declared in ``_requests`` (sent once per run: a
full run against a paid endpoint must cost cents); judging helpers several areas use are in ``_judges``.

Only what the server controls can make a feature nonconformant (status, envelope, framing, shapes,
parameters honoured or declined). What the model chooses is reported. Two rules follow, both run by
:func:`run_trials`:

- **Budgets never decide.** A reply that ends with ``finish_reason: "length"`` where the check needs a
  complete answer is asked again once with ``BUDGET_FACTOR`` times the budget; cut again, the check
  is skipped with both budgets in its reason. Our ``max_tokens`` is never the server's fault.
- **Repeated trials where the model decides.** Where sampling decides what the check can judge (a call
  under ``tool_choice: "auto"``, parallel calls, structured content, stream against non-stream), a check
  may ask again, up to ``ctx.trials`` requests (``--trials``), and lists every trial in a note. A
  contract violation seen once is a violation (a retry never hides it); a model outcome holds only in
  a majority of the trials; undecided, the check is skipped with the reason. A first answer that
  decides is never repeated, so a clean run sends each request once.

Depends on ``context``, ``envelope``, ``sse``, ``verdict`` and ``wire``; on no other check module.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from conformance.context import CheckContext
from conformance.cost import Spend, completion_tokens
from conformance.envelope import DeclineParam
from conformance.sse import SSEParse
from conformance.verdict import Findings, Oracle, Outcome, StopCheck, nonconformant, skipped
from conformance.wire import RecordedExchange, WireResponse

# Typed Any: checks send plain dicts, exactly as users do, not the SDK's TypedDicts.
SHORT_REPLY: Any = [{"role": "user", "content": "Reply with one short sentence about the sea."}]
RESPONSES_PROMPT = SHORT_REPLY[0]["content"]  # the same question as a Responses string input
# The suite's seed, and what every request that needs a stable answer sends (greedy decoding, seeded).
SEED = 7
STABLE: dict[str, Any] = {"temperature": 0, "seed": SEED}
# One robust outcome at temperature 0, so streamed and non-streamed answers can be compared.
DETERMINISTIC: dict[str, Any] = {
    "messages": [{"role": "user", "content": "Name three primary colours, separated by commas."}],
    **STABLE,
    "max_tokens": 24,
}
# A reply cut at our max_tokens where a complete answer is needed is asked again once with this many
# times the budget (a verbose model is no server fault); cut again, the check is skipped.
BUDGET_FACTOR = 4
BASIC_MAX_TOKENS = 24
# A reply long enough to cut (max_tokens) and to place stop sequences in.
COUNT_PROMPT: Any = [{"role": "user", "content": "Count from 1 to 20, separated by single spaces, and nothing else."}]
UNKNOWN_MODEL = "conformance-no-such-model-7f3a"
# A body field no version of the API defines: what a newer SDK's field or a vendor extension is to a server.
UNKNOWN_FIELD = "x_conformance_unknown"
WRONG_KEY = "sk-conformance-wrong-key-0000000000000000"
# The text embedded alone (the float reference) and first in the batch.
EMBEDDING_SAMPLE = "The sea is calm tonight."


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@cache
def fixture_text(relative: str) -> str:
    return (FIXTURES / relative).read_text(encoding="utf-8")


def fixture_json(relative: str) -> Any:
    return json.loads(fixture_text(relative))


def fixture_bytes(relative: str) -> bytes:
    return (FIXTURES / relative).read_bytes()


# Tools, typed Any: sent as plain dicts, exactly as users send them, not as the SDK's TypedDicts.
WEATHER: Any = fixture_json("tools/get_weather.json")
TOOL_MAX_TOKENS = 96
# A server that cannot do tools declines naming one of these.
TOOL_FIELDS = ("tools", "tool_choice")
WEATHER_QUESTION: Any = [{"role": "user", "content": "What is the weather in Paris right now? Use the tool."}]


def chat_body(ctx: CheckContext, **fields: Any) -> dict[str, Any]:
    return {"model": ctx.chat_model, **fields}


def complete(ctx: CheckContext, *, decline_param: DeclineParam = None, **body: Any) -> dict[str, Any]:
    """A non-streamed completion through the SDK as users run it (lax), read from the raw body.

    The SDK path proves the request is sendable and the answer reachable; the raw JSON is the
    truth the checks judge (the lax parser would hide a wrong type).
    """
    body.setdefault("model", ctx.chat_model)
    raw = ctx.call_sdk(
        lambda: ctx.sdk(strict=False).chat.completions.with_raw_response.create(**body), decline_param=decline_param
    )
    try:
        value = json.loads(raw.http_response.content)
    except ValueError:
        raise StopCheck(
            nonconformant(f"the body is not JSON: {raw.http_response.content[:120]!r}", Oracle.WIRE)
        ) from None
    if not isinstance(value, dict):
        raise StopCheck(nonconformant(f"the body is a JSON {type(value).__name__}, expected an object", Oracle.WIRE))
    return value


def first_choice(body: dict[str, Any]) -> dict[str, Any]:
    choices = body.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0]
    raise StopCheck(
        nonconformant(f"choices: received {compact(choices, 80)}, expected at least one choice", Oracle.BEHAVIOUR)
    )


def first_message(body: dict[str, Any]) -> dict[str, Any]:
    message = first_choice(body).get("message")
    if isinstance(message, dict):
        return message
    raise StopCheck(
        nonconformant(f"choices[0].message: received {compact(message, 80)}, expected an object", Oracle.BEHAVIOUR)
    )


def reply_outcome(
    ctx: CheckContext,
    *,
    messages: Any = SHORT_REPLY,
    accepted: str | None = None,
    decline_param: DeclineParam = None,
    **body: Any,
) -> Outcome:
    """A request that must simply be answered: the verdict rests on there being reply text."""
    findings = Findings()
    answer = complete(ctx, messages=messages, max_tokens=BASIC_MAX_TOKENS, decline_param=decline_param, **body)
    text = expect_reply(findings, answer)
    return findings.outcome(accepted or f"answered: {text[:60]!r}", Oracle.BEHAVIOUR)


def expect_reply(findings: Findings, body: dict[str, Any]) -> str:
    """The reply text of choice 0; a missing, empty or non-string content is a problem."""
    content = first_message(body).get("content")
    findings.expect(
        isinstance(content, str) and content.strip() != "",
        Oracle.BEHAVIOUR,
        f"message.content: received {compact(content, 80)}, expected the reply text",
    )
    return content if isinstance(content, str) else ""


# --- streams ------------------------------------------------------------------------------------


@dataclass
class StreamCapture:
    """A raw chat stream, read whole (bounded) and parsed by the strict SSE reader."""

    response: WireResponse
    sse: SSEParse

    def chunks(self) -> list[tuple[int, dict[str, Any]]]:
        """(line, object) for every data event before [DONE] that is a JSON object."""
        return [(event.line, value) for event, value in self.sse.json_chunks() if isinstance(value, dict)]

    def choice_chunks(self) -> list[tuple[int, dict[str, Any]]]:
        """Chunks that look like chat chunks (have a ``choices`` key)."""
        return [(line, chunk) for line, chunk in self.chunks() if "choices" in chunk]

    def require_chunks(self) -> list[tuple[int, dict[str, Any]]]:
        """The chat chunks; with none, a feature about their details has nothing to judge (a pass
        would be vacuous): it is skipped, and the stream's own features say what is wrong."""
        chunks = self.choice_chunks()
        if not chunks:
            raise StopCheck(
                skipped(
                    "the stream held no chat chunk to judge "
                    f"({self.response.content_type or 'no content-type'}; see chat.stream.chunk_object)"
                )
            )
        return chunks

    def content(self, index: int = 0) -> str:
        parts = []
        for _, chunk in self.choice_chunks():
            for choice in chunk.get("choices") or ():
                if isinstance(choice, dict) and choice.get("index") == index:
                    delta = choice.get("delta") or {}
                    if isinstance(delta, dict) and isinstance(delta.get("content"), str):
                        parts.append(delta["content"])
        return "".join(parts)


def raw_stream(ctx: CheckContext, body: dict[str, Any], *, decline_param: DeclineParam = None) -> StreamCapture:
    response = ctx.wire.post("chat/completions", {**body, "stream": True})
    ctx.require_ok(response, decline_param=decline_param)
    return StreamCapture(response, response.sse())


def json_object(response: WireResponse) -> dict[str, Any]:
    """A success body that must be a JSON object; anything else ends the check."""
    try:
        value = response.json()
    except ValueError:
        raise StopCheck(
            nonconformant(
                f"the {response.status} body is not JSON ({response.content_type or 'no content-type'}): "
                f"{response.body[:120]!r}",
                Oracle.WIRE,
            )
        ) from None
    if not isinstance(value, dict):
        raise StopCheck(
            nonconformant(
                f"the {response.status} body is a JSON {type(value).__name__}, expected an object", Oracle.WIRE
            )
        )
    return value


def strict_sdk_json(ctx: CheckContext, call: Any, findings: Findings) -> tuple[Any, Any]:
    """Send through the strict SDK with the raw response kept.

    Returns (the JSON body, the SDK's parsed object or None). The wire and SDK problems go into
    ``findings``; a body that is not JSON at all ends the check.
    """
    raw = ctx.call_sdk(call)
    content_type = raw.http_response.headers.get("content-type", "")
    findings.expect(
        content_type.startswith("application/json"),
        Oracle.WIRE,
        f"Content-Type: received {content_type!r}, expected application/json",
    )
    try:
        body = json.loads(raw.http_response.content)
    except ValueError:
        findings.add(Oracle.WIRE, f"the body is not JSON: {raw.http_response.content[:120]!r}")
        raise StopCheck(findings.fail()) from None
    parsed = None
    try:
        parsed = ctx.call_sdk(raw.parse)
    except StopCheck as stop:
        findings.add(Oracle.SDK, stop.outcome.reason)
    return body, parsed


def message_text(body: dict[str, Any], index: int = 0) -> Any:
    try:
        return body["choices"][index]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None


def compact(value: Any, limit: int = 120) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ended_by_length(body: dict[str, Any]) -> bool:
    """Whether any choice of a completion ended with ``finish_reason: "length"`` (our budget ran out)."""
    choices = body.get("choices")
    return isinstance(choices, list) and any(
        isinstance(choice, dict) and choice.get("finish_reason") == "length" for choice in choices
    )


# --- trials: budgets and sampling never decide ---------------------------------------------------


@dataclass
class Trial:
    """One answer, judged.

    ``findings`` holds what the server controls (its problems decide at once) and notes. ``model``
    names what the model chose when that keeps this answer from deciding ("answered in text instead
    of calling"), ``None`` when the answer decides. ``cut``: it ended with ``finish_reason:
    "length"`` where the check needs a complete answer (the suite's budget, never the server's
    fault). ``summary`` is its line in the list of trials; ``value`` whatever the check keeps.
    """

    findings: Findings
    summary: str
    model: str | None = None
    cut: bool = False
    value: Any = None


class Decision(enum.StrEnum):
    CONTRACT = "contract"  # a problem the server controls: nonconformant, whatever the other trials say
    BUDGET = "budget"  # cut by max_tokens with the larger budget too: skipped
    DECIDED = "decided"  # the first answer decides, or most trials did
    MODEL = "model"  # the model's outcome held in a majority of the trials
    UNDECIDED = "undecided"  # neither held in a majority: skipped


@dataclass
class Trials:
    """Every answer a check got for one question, with the budget each was asked with, and what they decide."""

    runs: list[tuple[int, Trial]]
    decision: Decision
    limit: int
    first_budget: int = 0
    budget_field: str = "max_tokens"  # the request field the budget was sent as (max_output_tokens: Responses)

    @property
    def last(self) -> Trial:
        return self.runs[-1][1]

    @property
    def judged(self) -> list[Trial]:
        """The trials that count: every answer that was not cut by the budget."""
        return [trial for _, trial in self.runs if not trial.cut]

    @property
    def model_outcomes(self) -> list[str]:
        return [trial.model for trial in self.judged if trial.model is not None]

    def tally(self) -> str:
        return f"{len(self.model_outcomes)} of {len(self.judged)} trial(s)"

    def findings(self) -> Findings:
        """The trials' findings merged (problems and notes), with the list of trials when there were several."""
        merged = Findings()
        for _, trial in self.runs:
            for problem in trial.findings.problems:
                merged.add(problem.oracle, problem.message)
            for note in trial.findings.notes:
                merged.note(note)
            merged.extensions += [e for e in trial.findings.extensions if e not in merged.extensions]
        if len(self.runs) > 1:
            listed = "; ".join(
                f"{number}) {trial.summary}"
                + (f" ({self.budget_field} {budget})" if budget != self.first_budget else "")
                for number, (budget, trial) in enumerate(self.runs, 1)
            )
            upto = f" (up to {self.limit} trials where the model decides)" if self.limit > 1 else ""
            merged.note(f"{len(self.runs)} requests{upto}: {listed}")
        return merged

    def budget_reason(self) -> str:
        larger = self.runs[-1][0]
        return (
            f"the reply was cut by max_tokens twice (finish_reason 'length' at {self.first_budget}, then at "
            f"{larger}): the check needs a complete answer, and the budget is the suite's, not the server's"
        )

    def outcome(self, supported: str, oracle: Oracle, *, model_fails: bool) -> Outcome:
        """The verdict: a contract problem fails; a budget cut twice or a tie skips; a model outcome held
        by the majority fails only where the server controls it (``model_fails``: a format not
        honoured), and is otherwise a note."""
        findings = self.findings()
        if self.decision is Decision.CONTRACT:
            return findings.fail()
        if self.decision is Decision.BUDGET:
            return skipped(self.budget_reason())
        outcomes = self.model_outcomes
        if self.decision is Decision.UNDECIDED and model_fails:
            return skipped(
                f"undecided: {outcomes[0]} in {self.tally()}, and the other answers decided otherwise "
                f"(a majority of {self.limit} trials is needed)"
            )
        if self.decision is Decision.UNDECIDED:  # the model's outcome would only be a note: noted
            findings.note(f"{outcomes[0]} in {self.tally()} (the model's choice)")
        elif self.decision is Decision.MODEL:
            if model_fails:
                findings.add(oracle, f"{outcomes[0]} ({self.tally()})")
                return findings.fail()
            findings.note(f"{outcomes[0]} ({self.tally()}; the model's choice)")
        elif outcomes:
            findings.note(f"{outcomes[0]} in {self.tally()}; the majority decided otherwise")
        return findings.outcome(supported, oracle)


def run_trials(
    ctx: CheckContext,
    attempt: Callable[[int], Trial],
    *,
    budget: int,
    repeat: bool = True,
    budget_field: str = "max_tokens",
) -> Trials:
    """Ask (``attempt(max_tokens)`` sends one request and judges the answer) until the answers decide.

    A cut answer is asked again once with ``BUDGET_FACTOR`` times the budget (``Decision.BUDGET`` when
    cut again). A server problem ends the trials at once. A first answer that decides is never
    repeated; after an answer the model decided against the check, the trials go on (``repeat``: up
    to ``ctx.trials`` answers) until one side holds a strict majority of them.
    """
    limit = ctx.trials if repeat else 1
    runs: list[tuple[int, Trial]] = []
    first, raised = budget, False
    while True:
        sent = _sent_so_far(ctx)
        trial = attempt(budget)
        runs.append((budget, trial))
        if len(runs) == 1:
            _declare_headroom(ctx, _sent_so_far(ctx)[len(sent) :], limit)
        decision: Decision | None = None
        judged = [t for _, t in runs if not t.cut]
        outcomes = sum(t.model is not None for t in judged)
        if trial.findings.problems:
            decision = Decision.CONTRACT
        elif trial.cut:
            if raised:
                decision = Decision.BUDGET
            else:
                budget, raised = budget * BUDGET_FACTOR, True
        elif outcomes == 0 or 2 * (len(judged) - outcomes) > limit:
            decision = Decision.DECIDED
        elif 2 * outcomes > limit:
            decision = Decision.MODEL
        elif len(judged) >= limit:
            decision = Decision.UNDECIDED
        if decision is not None:
            return Trials(runs, decision, limit, first, budget_field)


def _sent_so_far(ctx: CheckContext) -> list[RecordedExchange]:
    return list(ctx.observed.exchanges_so_far)


def _declare_headroom(ctx: CheckContext, first: list[RecordedExchange], limit: int) -> None:
    """What :func:`run_trials` may send beyond its first attempt (``first``'s exchanges), for the plan.

    At most ``limit + 1`` attempts: one answer cut and asked again with ``BUDGET_FACTOR`` times the
    budget, then up to ``limit`` answers at that budget; so ``limit`` more attempts, each at most
    ``BUDGET_FACTOR`` times the first's tokens.
    """
    tokens = sum(completion_tokens(exchange) or 0 for exchange in first)
    ctx.may_repeat(Spend(limit * len(first), limit * BUDGET_FACTOR * tokens))
