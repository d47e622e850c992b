"""The end of a long stream is evidence too: a missing `data: [DONE]` is at the end, which the
recorder once dropped (it kept the first lines and bytes only). The report shows it (test_report_html)."""

from __future__ import annotations

import json
import time
from typing import Any

from conformance.redact import Redactor
from conformance.target import Secret, Target, Timeouts
from conformance.wire import Recorder, WireClient
from conformance.wire.exchange import (
    EVIDENCE_SSE_LINES,
    EVIDENCE_SSE_TAIL_LINES,
    RECORDED_HEAD_BYTES,
    RECORDED_TAIL_BYTES,
    RecordedExchange,
)
from tests.scripted import CHUNK, Request, Script, start_sse

KEY = "sk-evidence-test-0123456789abcdef"


def stream_exchange(lines: list[str], chunk: int = 4096) -> RecordedExchange:
    exchange = RecordedExchange("POST", "https://h.example/v1/chat/completions", [], b'{"stream": true}', 0.0)
    exchange.status = 200
    exchange.response_headers = [("content-type", "text/event-stream")]
    data = ("\n".join(lines) + "\n").encode()
    for start in range(0, len(data), chunk):
        piece = data[start : start + chunk]
        exchange.body_bytes += len(piece)
        exchange.keep(piece)
    return exchange


def events(count: int, last: str = "data: [DONE]") -> list[str]:
    frames = [f"data: {json.dumps({**CHUNK, 'n': i})}" for i in range(count)] + [last]
    return [line for frame in frames for line in (frame, "")]


def test_a_short_stream_is_kept_whole() -> None:
    evidence = stream_exchange(events(3)).to_evidence(Redactor([KEY]))["response"]
    assert evidence["sse"] == events(3) and "sse_tail" not in evidence and "truncated" not in evidence


def test_a_stream_of_more_lines_than_kept_keeps_its_last_ones_and_counts_them() -> None:
    lines = events(300, last="data: the end")
    evidence = stream_exchange(lines).to_evidence(Redactor([KEY]))["response"]
    assert evidence["sse"] == lines[:EVIDENCE_SSE_LINES]  # as before: the head, unchanged
    assert evidence["sse_tail"] == lines[-EVIDENCE_SSE_TAIL_LINES:]
    assert evidence["sse_tail"][-2:] == ["data: the end", ""]
    assert evidence["sse_lines"] == len(lines) and evidence["truncated"] is True


def test_a_stream_of_more_bytes_than_kept_keeps_its_last_bytes() -> None:
    big = "x" * 2000
    lines = [f"data: {big}{i}" for i in range(RECORDED_HEAD_BYTES // 2000 + 100)] + [f"data: {KEY} at the end"]
    exchange = stream_exchange(lines)
    assert len(exchange.body) == RECORDED_HEAD_BYTES and len(exchange.tail) == RECORDED_TAIL_BYTES
    evidence = exchange.to_evidence(Redactor([KEY]))["response"]
    assert evidence["sse_tail"][-1] == "data: *** at the end"  # redacted like the rest
    assert all(line.startswith("data: ") for line in evidence["sse_tail"])  # whole lines only
    assert "sse_lines" not in evidence  # the middle was not recorded: its length is unknown
    assert evidence["truncated"] is True and evidence["body_bytes"] == exchange.body_bytes


def test_the_transport_records_the_end_of_an_endless_stream() -> None:
    def endless(script: Script, request: Request, wfile: Any) -> None:
        start_sse(wfile)
        frame = f"data: {json.dumps(CHUNK)}\n\n".encode()
        try:
            for _ in range(20_000):  # ~3.6 MB: past the body bound, which ends it
                wfile.write(frame)
            wfile.flush()
        except OSError:
            pass

    timeouts = Timeouts(read=2.0, total=10.0, max_body_bytes=1024 * 1024)
    with Script({("POST", "/v1/chat/completions"): endless}) as script:
        recorder = Recorder()
        recorder.begin_scope()
        client = WireClient(Target(script.base_url, Secret(KEY), {"chat": "m"}, timeouts=timeouts), recorder)
        started = time.monotonic()
        try:
            client.post("chat/completions", {"model": "m", "messages": [], "stream": True})
        except Exception:  # the transport's too_large failure, whatever the client wraps it in
            pass
        assert time.monotonic() - started < 10
        exchange = recorder.scope[0]
    evidence = exchange.to_evidence(Redactor([KEY]))
    assert evidence["failure"]["kind"] == "too_large"
    *whole, last = evidence["response"]["sse_tail"]  # the last may be cut where the bound cut the stream
    assert whole and all(line in ("", f"data: {json.dumps(CHUNK)}") for line in whole)
    assert f"data: {json.dumps(CHUNK)}".startswith(last)
