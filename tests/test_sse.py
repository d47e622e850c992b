"""The strict SSE reader: what any correct client would see, plus every framing fact."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from conformance.sse import parse_sse


def test_a_well_formed_stream() -> None:
    body = b'data: {"a":1}\n\ndata: {"a":2}\n\ndata: [DONE]\n\n'
    parsed = parse_sse(body)
    assert [e.data for e in parsed.events] == ['{"a":1}', '{"a":2}', "[DONE]"]
    assert parsed.done_event is parsed.events[-1]
    assert parsed.facts == []
    assert [v for _, v in parsed.json_chunks()] == [{"a": 1}, {"a": 2}]


def test_last_event_without_blank_line_is_not_dispatched() -> None:
    parsed = parse_sse(b'data: {"a":1}\n\ndata: [DONE]\n')
    assert parsed.done_event is None
    assert parsed.undispatched is not None and parsed.undispatched.data == "[DONE]"
    assert parsed.has("undispatched_at_eof")


def test_events_separated_by_one_newline_join_into_invalid_json() -> None:
    parsed = parse_sse(b'data: {"a":1}\ndata: {"a":2}\n\n')
    assert len(parsed.events) == 1
    assert parsed.has("multi_line_data") and parsed.has("non_json_data")


def test_empty_data_and_event_only_frames_are_reported() -> None:
    parsed = parse_sse(b"event: ping\n\ndata:\n\ndata: [DONE]\n\n")
    assert len(parsed.facts_of("empty_data")) == 2
    assert parsed.has("event_field")


def test_valid_variants_are_facts_not_errors() -> None:
    parsed = parse_sse(b': keep-alive\r\n\r\ndata:{"a":1}\r\n\r\ndata:[DONE]\r\n\r\n')
    assert parsed.has("crlf") and parsed.has("comment") and parsed.has("no_space_after_colon")
    assert [v for _, v in parsed.json_chunks()] == [{"a": 1}]
    assert parsed.done_event is not None


def test_bom_invalid_utf8_and_bytes_after_done() -> None:
    assert parse_sse(b'\xef\xbb\xbfdata: {"a":1}\n\n').has("bom")
    assert parse_sse(b'data: {"a":"\xff"}\n\n').has("invalid_utf8")
    parsed = parse_sse(b'data: [DONE]\n\ndata: {"late":true}\n\n')
    assert parsed.has("after_done") and parsed.bytes_after_done


@given(
    chunks=st.lists(
        st.dictionaries(st.text(min_size=1, max_size=5), st.integers() | st.text(max_size=10), max_size=3), max_size=6
    ),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    space=st.sampled_from(["", " "]),
    comments=st.booleans(),
)
def test_any_valid_framing_round_trips(chunks: list[dict], newline: str, space: str, comments: bool) -> None:
    frames = []
    for chunk in chunks:
        if comments:
            frames.append(f": ping{newline}{newline}")
        frames.append(f"data:{space}{json.dumps(chunk)}{newline}{newline}")
    frames.append(f"data:{space}[DONE]{newline}{newline}")
    parsed = parse_sse("".join(frames).encode())
    assert [value for _, value in parsed.json_chunks()] == chunks
    assert parsed.done_event is not None
    failures = {"undispatched_at_eof", "empty_data", "non_json_data", "event_field", "bom", "invalid_utf8"}
    assert not any(parsed.has(code) for code in failures)
