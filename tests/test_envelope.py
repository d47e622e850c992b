"""OpenAI's error envelope and the honest-decline rule."""

from __future__ import annotations

import json

import pytest

from conformance.envelope import decode_error_body, envelope_problems, judge_decline

GOOD = {"error": {"message": "Invalid value for n", "type": "invalid_request_error", "param": "n", "code": None}}


def body(status: int, payload: object, content_type: str = "application/json"):
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return decode_error_body(status, content_type, raw)


def test_the_full_envelope_has_no_problems() -> None:
    assert envelope_problems(body(400, GOOD)) == []


@pytest.mark.parametrize(
    "payload, fragment",
    [
        (b"", "empty"),
        (b"<html><body>404</body></html>", "HTML"),
        (b"Unauthorized", "not JSON"),
        ([1, 2], "JSON list"),
        ({"detail": "Not Found"}, "FastAPI"),
        ({"object": "error", "message": "bad", "type": "BadRequestError", "code": 400}, "flat"),
        ({"error": "Unauthorized"}, "'error' is a str"),
        ({"error": {"message": "", "type": "x", "param": None, "code": None}}, "error.message"),
        ({"error": {"message": '{"detail": [1]}', "type": "x", "param": None, "code": None}}, "JSON-encoded"),
        (
            {
                "error": {
                    "message": 'Traceback (most recent call last):\n  File "a.py", line 1',
                    "type": "x",
                    "param": None,
                    "code": None,
                }
            },
            "stack trace",
        ),
        ({"error": {"message": "m", "param": None, "code": None}}, "error.type"),
        ({"error": {"message": "m", "type": "t", "code": None}}, "error.param is absent"),
        ({"error": {"message": "m", "type": "t", "param": None, "code": 400}}, "error.code"),
    ],
)
def test_envelope_problems_name_the_defect(payload: object, fragment: str) -> None:
    problems = envelope_problems(body(400, payload))
    assert problems and fragment in " ".join(problems)


def test_an_honest_decline() -> None:
    honest, problems = judge_decline(body(400, GOOD), param="n")
    assert honest and problems == []
    assert judge_decline(body(404, GOOD))[0]


@pytest.mark.parametrize(
    "status, fragment", [(422, "422"), (500, "5xx"), (501, "5xx"), (409, "expected 400, 403 or 404")]
)
def test_a_decline_with_the_wrong_status_is_not_honest(status: int, fragment: str) -> None:
    honest, problems = judge_decline(body(status, GOOD), param="n")
    assert not honest
    text = " ".join(problems)
    assert str(status) in text or fragment in text


def test_a_decline_naming_the_wrong_param_is_not_honest() -> None:
    honest, problems = judge_decline(body(400, GOOD), param="temperature")
    assert not honest and "param" in problems[0]


def test_summary_is_short_and_says_how_the_server_declines() -> None:
    assert body(400, GOOD).summary() == "400 invalid_request_error param=n: Invalid value for n"
