"""A strict Server-Sent Events reader for chat streams.

It parses by the WHATWG rules (so it sees what any correct client sees) and, beside the
events, records every framing fact that matters to real clients: a last event that was never
dispatched, events with empty data, named events, BOMs, CRLF line endings, comments, bytes
after ``[DONE]``. Deciding which facts are failures is the checks' business, not the reader's.

Depends on nothing else in the project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

DONE = "[DONE]"


@dataclass
class SSEEvent:
    """One dispatched event. ``line`` is the 1-based line number where it started."""

    line: int
    data: str
    event: str | None = None
    id: str | None = None
    retry: str | None = None
    data_lines: int = 0

    @property
    def is_done(self) -> bool:
        # Exactly what OpenAI sends; the SDK also accepts a suffix, we report that separately.
        return self.data == DONE

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class SSEParse:
    events: list[SSEEvent] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    # framing facts, each (code, 1-based line, detail)
    facts: list[tuple[str, int, str]] = field(default_factory=list)
    # an event still pending at EOF (no blank line after it): clients drop it silently
    undispatched: SSEEvent | None = None
    bytes_after_done: bytes = b""

    def has(self, code: str) -> bool:
        return any(c == code for c, _, _ in self.facts)

    def facts_of(self, code: str) -> list[tuple[str, int, str]]:
        return [f for f in self.facts if f[0] == code]

    @property
    def done_event(self) -> SSEEvent | None:
        return next((e for e in self.events if e.is_done), None)

    def data_events(self) -> list[SSEEvent]:
        """Events before the first ``[DONE]`` (what a client treats as the stream)."""
        out: list[SSEEvent] = []
        for event in self.events:
            if event.is_done:
                break
            out.append(event)
        return out

    def json_chunks(self) -> list[tuple[SSEEvent, Any]]:
        """(event, decoded JSON) for every data event before ``[DONE]`` that holds valid JSON."""
        out: list[tuple[SSEEvent, Any]] = []
        for event in self.data_events():
            try:
                out.append((event, event.json()))
            except ValueError:
                continue
        return out


def _split_lines(text: str) -> tuple[list[str], set[str], bool]:
    """Split on CRLF, LF or lone CR. Returns the lines, the endings seen, and whether the
    text ended with a line terminator."""
    lines: list[str] = []
    endings: set[str] = set()
    start = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\r":
            lines.append(text[start:i])
            if i + 1 < n and text[i + 1] == "\n":
                endings.add("crlf")
                i += 2
            else:
                endings.add("cr")
                i += 1
            start = i
            continue
        if ch == "\n":
            lines.append(text[start:i])
            endings.add("lf")
            i += 1
            start = i
            continue
        i += 1
    ended = start == n
    if not ended:
        lines.append(text[start:])
    return lines, endings, ended


def parse_sse(body: bytes) -> SSEParse:
    result = SSEParse()
    if body.startswith(b"\xef\xbb\xbf"):
        result.facts.append(("bom", 1, "body starts with a UTF-8 byte order mark"))
        body = body[3:]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        result.facts.append(("invalid_utf8", 0, str(exc)))
        text = body.decode("utf-8", errors="replace")

    lines, endings, _ = _split_lines(text)
    result.lines = lines
    if "crlf" in endings:
        result.facts.append(("crlf", 0, "CRLF line endings (valid SSE)"))
    if "cr" in endings:
        result.facts.append(("cr", 0, "lone CR line endings (valid SSE)"))

    data_parts: list[str] = []
    event_name: str | None = None
    event_id: str | None = None
    retry: str | None = None
    start_line = 0
    pending = False
    seen_done = False
    done_line = 0

    def pending_event() -> SSEEvent:
        return SSEEvent(
            line=start_line,
            data="\n".join(data_parts),
            event=event_name,
            id=event_id,
            retry=retry,
            data_lines=len(data_parts),
        )

    def dispatch() -> None:
        nonlocal data_parts, event_name, event_id, retry, pending
        result.events.append(pending_event())
        data_parts, event_name, event_id, retry, pending = [], None, None, None, False

    for index, line in enumerate(lines, start=1):
        if seen_done and line.strip():
            result.facts.append(("after_done", index, line[:200]))
        if line == "":
            if pending:
                dispatch()
                if result.events[-1].is_done and not seen_done:
                    seen_done = True
                    done_line = index
            continue
        if line.startswith(":"):
            result.facts.append(("comment", index, line[:200]))
            continue
        if not pending:
            start_line = index
        pending = True
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        elif sep and value and name in ("data", "event", "id", "retry"):
            # only a real SSE field: a JSON body read as SSE ('{"id":...') is no framing variant
            result.facts.append(("no_space_after_colon", index, line[:80]))
        if name == "data":
            data_parts.append(value)
        elif name == "event":
            event_name = value
            result.facts.append(("event_field", index, value[:200]))
        elif name == "id":
            event_id = value
            result.facts.append(("id_field", index, value[:200]))
        elif name == "retry":
            retry = value
            result.facts.append(("retry_field", index, value[:200]))
        else:
            result.facts.append(("unknown_field", index, line[:200]))

    if pending:
        result.undispatched = pending_event()
        result.facts.append(("undispatched_at_eof", start_line, "last event has no blank line after it"))

    for event in result.events:
        if event.data == "" and event.data_lines <= 1:
            result.facts.append(("empty_data", event.line, "event with no data"))
        elif event.data_lines > 1:
            result.facts.append(("multi_line_data", event.line, f"{event.data_lines} data lines joined"))
        if not event.is_done and event.data.startswith(DONE):
            result.facts.append(("done_with_suffix", event.line, event.data[:80]))
        elif not event.is_done and event.data:
            try:
                json.loads(event.data)
            except ValueError:
                result.facts.append(("non_json_data", event.line, event.data[:200]))

    if seen_done:
        tail_lines = lines[done_line:]
        tail = "\n".join(tail_lines).strip()
        result.bytes_after_done = tail.encode()
    return result
