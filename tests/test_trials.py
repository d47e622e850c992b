"""Judge the server, never the model: the trials a check may run, the budget it may raise once, and the
judges that tell the server's part of an answer from the model's.

- A server fault seen once decides: no later trial hides it.
- A model outcome holds only in a majority of the trials (``--trials``, default 3); a first answer
  that decides is never repeated, so a clean run sends each request once.
- A reply cut by our ``max_tokens`` is asked again once with ``BUDGET_FACTOR`` times the budget; cut
  again, the check is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from conformance.checks._common import BUDGET_FACTOR, Decision, Trial, run_trials
from conformance.checks._judges import (
    argument_problems,
    content_beside_calls,
    json_unclosed,
    tool_call_problems,
    unparsed_tool_call,
    unreported_cut,
)
from conformance.cli import build_parser
from conformance.target import DEFAULT_TRIALS, ConfigError, Secret, Target, with_trials
from conformance.verdict import Findings, Oracle, Status

GOOD, MODEL, CUT, FAULT = "good", "model", "cut", "fault"


def _trials(answers: list[str], *, trials: int = 3, repeat: bool = True) -> tuple[Any, list[int]]:
    """Run trials over scripted answers; returns (the Trials, the budget of each request sent)."""
    sent: list[int] = []
    script: Iterator[str] = iter(answers)

    def attempt(budget: int) -> Trial:
        sent.append(budget)
        kind = next(script)
        findings = Findings()
        if kind == FAULT:
            findings.add(Oracle.BEHAVIOUR, "tool_calls[0].id: received '', expected a non-empty string")
        return Trial(findings, kind, model="the model answered in text" if kind == MODEL else None, cut=kind == CUT)

    # a stand-in context: the trial rules read the trial count, the run log (empty here: the attempts
    # are simulated) and declare what they may repeat
    ctx: Any = SimpleNamespace(
        trials=trials, observed=SimpleNamespace(exchanges_so_far=()), may_repeat=lambda extra: None
    )
    return run_trials(ctx, attempt, budget=24, repeat=repeat), sent


def test_a_first_answer_that_decides_is_never_repeated() -> None:
    result, sent = _trials([GOOD])
    assert result.decision is Decision.DECIDED and sent == [24]
    assert result.outcome("ok", Oracle.BEHAVIOUR, model_fails=True).status is Status.SUPPORTED


def test_a_server_fault_seen_once_decides_whatever_came_before() -> None:
    result, sent = _trials([MODEL, FAULT, GOOD])
    assert result.decision is Decision.CONTRACT and len(sent) == 2
    outcome = result.outcome("ok", Oracle.BEHAVIOUR, model_fails=False)
    assert outcome.status is Status.NONCONFORMANT
    # the evidence lists every trial
    assert any("1) model; 2) fault" in note for note in outcome.notes)


@pytest.mark.parametrize(
    ("answers", "decision", "requests"),
    [
        ([MODEL, MODEL], Decision.MODEL, 2),  # two of three: the majority, no third request
        ([MODEL, GOOD, MODEL], Decision.MODEL, 3),
        ([MODEL, GOOD, GOOD], Decision.DECIDED, 3),
    ],
)
def test_a_model_outcome_needs_a_majority(answers: list[str], decision: Decision, requests: int) -> None:
    result, sent = _trials(answers)
    assert result.decision is decision and len(sent) == requests


def test_a_model_outcome_held_by_the_majority_fails_only_where_the_server_controls_it() -> None:
    result, _ = _trials([MODEL, MODEL])
    failed = result.outcome("ok", Oracle.BEHAVIOUR, model_fails=True)
    assert failed.status is Status.NONCONFORMANT and "(2 of 2 trial(s))" in failed.reason
    noted = result.outcome("ok", Oracle.BEHAVIOUR, model_fails=False)
    assert noted.status is Status.SUPPORTED
    assert any("the model answered in text (2 of 2 trial(s); the model's choice)" in n for n in noted.notes)


def test_a_minority_model_outcome_is_a_note() -> None:
    result, _ = _trials([MODEL, GOOD, GOOD])
    outcome = result.outcome("ok", Oracle.BEHAVIOUR, model_fails=True)
    assert outcome.status is Status.SUPPORTED
    assert any("1 of 3 trial(s); the majority decided otherwise" in note for note in outcome.notes)


def test_a_tie_is_undecided_and_skipped_where_it_would_fail() -> None:
    result, sent = _trials([MODEL, GOOD], trials=2)
    assert result.decision is Decision.UNDECIDED and len(sent) == 2
    assert result.outcome("ok", Oracle.BEHAVIOUR, model_fails=True).status is Status.SKIPPED
    assert result.outcome("ok", Oracle.BEHAVIOUR, model_fails=False).status is Status.SUPPORTED


def test_one_trial_means_no_repeat() -> None:
    result, sent = _trials([MODEL], trials=1)
    assert result.decision is Decision.MODEL and len(sent) == 1
    result, sent = _trials([MODEL], repeat=False)
    assert result.decision is Decision.MODEL and len(sent) == 1


def test_a_cut_reply_is_asked_again_once_with_a_larger_budget() -> None:
    result, sent = _trials([CUT, GOOD])
    assert result.decision is Decision.DECIDED and sent == [24, 24 * BUDGET_FACTOR]
    assert any("(max_tokens 96)" in note for note in result.findings().notes)
    result, sent = _trials([CUT, CUT])
    assert result.decision is Decision.BUDGET and sent == [24, 96]
    outcome = result.outcome("ok", Oracle.BEHAVIOUR, model_fails=True)
    assert outcome.status is Status.SKIPPED and "at 24, then at 96" in outcome.reason


def test_a_cut_reply_is_no_trial_of_the_model() -> None:
    result, sent = _trials([MODEL, CUT, MODEL])
    assert result.decision is Decision.MODEL and sent == [24, 24, 96]
    assert result.tally() == "2 of 2 trial(s)"


def test_the_trials_are_a_target_setting_with_a_small_default() -> None:
    target = Target("http://127.0.0.1:9/v1", Secret("sk-x"), {"chat": "m"})
    assert target.trials == DEFAULT_TRIALS == 3
    assert with_trials(target, 5).trials == 5 and with_trials(target, None) is target
    with pytest.raises(ConfigError, match="at least 1"):
        with_trials(target, 0)
    assert build_parser().parse_args(["run", "--trials", "1"]).trials == 1
    assert build_parser().parse_args(["run"]).trials == DEFAULT_TRIALS


# --- the server's part of a tool call, and the model's ------------------------------------------------

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
    "required": ["city", "unit"],
}


def _call(arguments: Any, call_id: str = "call_1") -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}


def test_the_shape_of_a_call_is_the_servers_and_its_arguments_the_models() -> None:
    schemas = {"get_weather": WEATHER_SCHEMA}
    partial = [_call('{"city": "Paris"}')]
    assert tool_call_problems(partial, schemas) == []
    assert argument_problems(partial, schemas) == [
        "tool_calls[0].function.arguments: 'unit' is a required property (the tool's parameters schema)"
    ]
    assert argument_problems([_call('{"city": "Par')], schemas)[0].endswith('is not JSON: \'{"city": "Par\'')
    # an object where a string belongs is the server's (json.loads raises TypeError in user code)
    assert "expected a JSON string" in tool_call_problems([_call({"city": "Paris"})], schemas)[0]


@pytest.mark.parametrize(
    ("text", "unclosed"),
    [
        ('{"timezone" :"]arch aboupe date', True),  # llama-cpp-python's named call, cut mid-string
        ('{"city": "Paris", ', True),
        ('{"city": "Paris"', True),
        ('{"city": "Paris"}', False),
        ('{"city": "Pa\x14ris"}', False),  # a raw control character: invalid JSON, but complete
        ('{"city": , }', False),
    ],
)
def test_json_left_open_is_told_from_json_that_is_merely_invalid(text: str, unclosed: bool) -> None:
    assert json_unclosed(text) is unclosed


def _reply(finish: str, completion_tokens: int, arguments: str | None = None, n: int = 1) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None if arguments else "Hello"}
    if arguments is not None:
        message["tool_calls"] = [_call(arguments)]
    choice = {"index": 0, "message": message, "finish_reason": finish}
    return {"choices": [choice] * n, "usage": {"completion_tokens": completion_tokens}}


def test_a_cut_is_flagged_only_when_it_shows() -> None:
    assert unreported_cut(_reply("tool_calls", 96, '{"timezone": "Asia/To'), 96) is not None
    assert unreported_cut(_reply("stop", 25), 24) is not None  # usage above the limit
    # a reply may end on its last allowed token: complete arguments, or text, at the limit say nothing
    assert unreported_cut(_reply("tool_calls", 96, '{"timezone": "Asia/Tokyo"}'), 96) is None
    assert unreported_cut(_reply("stop", 24), 24) is None
    assert unreported_cut(_reply("length", 96, '{"timezone": "Asia/To'), 96) is None  # reported
    assert unreported_cut(_reply("tool_calls", 95, '{"timezone": "Asia/To'), 96) is None  # the model's JSON
    assert unreported_cut(_reply("stop", 40, n=2), 24) is None  # usage counts every choice


@pytest.mark.parametrize(
    ("content", "found"),
    [
        ('<tool_call>\n{"name": "lookup", "arguments": {"city": "Paris"}}\n</tool_call>', "`<tool_call>`"),
        ('[TOOL_CALLS][{"name": "get_weather", "arguments": {}}]', "`[TOOL_CALLS]`"),
        ('{"name": "get_weather", "arguments": {"city": "Paris"}}', "calling get_weather"),
        ('```json\n{"name": "get_weather", "parameters": {"city": "Paris"}}\n```', "calling get_weather"),
        ('{"name": "Paris", "arguments": {}}', None),  # no offered function: an answer in JSON
        ("It is sunny in Paris.", None),
        (None, None),
    ],
)
def test_a_call_left_in_content_is_recognised(content: Any, found: str | None) -> None:
    result = unparsed_tool_call(content, ["get_weather"])
    assert (result is None) if found is None else (result is not None and found in result)


def test_content_beside_calls_is_reported_never_failed() -> None:
    assert "OpenAI sends null" in (content_beside_calls({"content": "", "tool_calls": [_call("{}")]}) or "")
    assert content_beside_calls({"content": None, "tool_calls": [_call("{}")]}) is None
    assert content_beside_calls({"content": "", "tool_calls": None}) is None
