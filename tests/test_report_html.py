"""The HTML report and the badge: pure functions of results.json, pinned by snapshots, checked in a real browser."""

from __future__ import annotations

import copy
import json
import shlex
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from conformance.policy import gate_of
from conformance.report.badge import (
    CERTIFIED_COLOUR,
    CHAR_WIDTHS,
    FALLBACK_WIDTH,
    NOT_CERTIFIED_COLOUR,
    badge_endpoint,
    badge_value,
    preferred_width,
    render_badge,
    text_width,
)
from conformance.report.html import SPRITE, SSE_HEAD_LINES, SSE_TAIL_LINES, curl_command, render_html
from scripts.regenerate_reports import CHROMIUM_FLAGS  # one list of the flags that keep it offline
from tests.sample_results import sample_results

CHROMIUM = Path("/usr/bin/chromium")
SVG = "{http://www.w3.org/2000/svg}"

STREAM_EXCHANGE: dict[str, Any] = {
    "request": {
        "method": "POST",
        "url": "https://api.vendor.example/v1/chat/completions",
        "headers": {"authorization": "Bearer ***", "content-type": "application/json", "accept": "application/json"},
        "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True},
    },
    "response": {
        "status": 200,
        "headers": {"content-type": "text/event-stream"},
        "elapsed_ms": 3.9,
        "sse": ['data: {"choices":[{"index":0,"delta":{"content":"Hel"}}]}', "", 'data: {"choices":[]}', ""],
    },
    "note": "the stream closed after 2 events",
}

SDK_HEADERS: dict[str, str] = {
    "host": "api.vendor.example",
    "accept-encoding": "gzip, deflate",
    "connection": "keep-alive",
    "accept": "application/json",
    "user-agent": "OpenAI/Python 3.54.0",
    "x-stainless-lang": "python",
    "x-stainless-retry-count": "0",
    "authorization": "Bearer ***",
    "content-type": "application/json",
    "content-length": "42",
}


class _Elements(HTMLParser):
    """Every start tag of a page, with its attributes, and the text inside each ``<pre class="curl">``."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.curls: list[str] = []
        self._in_curl = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "pre" and dict(attrs).get("class") == "curl":
            self._in_curl = True
            self.curls.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_curl = False

    def handle_data(self, data: str) -> None:
        if self._in_curl:
            self.curls[-1] += data

    def ids(self, tag: str | None = None) -> list[str]:
        return [value for t, a in self.tags if (value := a.get("id")) and (tag is None or t == tag)]


@pytest.fixture
def results() -> dict[str, Any]:
    return sample_results()


def with_stream(results: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(results)
    changed["features"]["chat.stream.done_sentinel"]["evidence"] = [copy.deepcopy(STREAM_EXCHANGE)]
    return changed


# --- HTML --------------------------------------------------------------------------------------------


def test_html_report(results: dict[str, Any], snapshot) -> None:  # type: ignore[no-untyped-def]
    assert render_html(results) == snapshot


def test_html_is_deterministic(results: dict[str, Any]) -> None:
    assert render_html(results) == render_html(sample_results())


def test_every_feature_has_a_row_and_a_panel(results: dict[str, Any]) -> None:
    page = _Elements(render_html(results))
    rows, panels = page.ids("tr"), page.ids("section")
    for feature_id in results["features"]:
        assert f"row-{feature_id}" in rows
        assert f"ev-{feature_id}" in panels
    ids = page.ids()
    assert len(ids) == len(set(ids)), "element ids are unique"


def test_verdict_cells_link_to_the_panels(results: dict[str, Any]) -> None:
    page = _Elements(render_html(results))
    links = [a["href"] for tag, a in page.tags if tag == "a" and a.get("href")]
    panels = set(page.ids("section"))
    for feature_id in results["features"]:
        assert f"#ev-{feature_id}" in links
    assert all(href[1:] in set(page.ids()) for href in links if href and href.startswith("#")), "no dangling link"
    assert panels >= {f"ev-{f}" for f in results["features"]}


def test_panels_follow_the_matrix_order(results: dict[str, Any]) -> None:
    page = _Elements(render_html(results))
    rows = [i.removeprefix("row-") for i in page.ids("tr")]
    panels = [i.removeprefix("ev-") for i in page.ids("section") if i.startswith("ev-")]
    assert rows == panels
    assert rows[:3] == ["chat.basic", "chat.n", "chat.usage"]  # catalog areas first, then the others


def test_the_page_is_self_contained(results: dict[str, Any]) -> None:
    text = render_html(with_stream(results))
    for tag, attrs in _Elements(text).tags:
        assert not attrs.get("src"), f"<{tag}> loads a resource"
        assert tag != "link", "no external stylesheet"
        href = attrs.get("href")
        assert href is None or href.startswith("#")


def test_server_text_never_becomes_markup(results: dict[str, Any]) -> None:
    hostile = "<script>alert(1)</script>"
    changed = with_stream(results)
    feature = changed["features"]["chat.n"]
    feature.update(reason=hostile, title=hostile, notes=[hostile], problems=[{"oracle": "wire", "message": hostile}])
    feature["troubleshooting"] = [{"id": "t", "symptom": hostile, "fix": hostile}]
    exchange = copy.deepcopy(feature["evidence"][0])
    exchange["response"]["body"] = {"error": {"message": hostile}}
    exchange["response"]["headers"] = {"x-evil": hostile}
    exchange["failure"] = {"kind": "protocol", "detail": hostile}
    exchange["note"] = hostile
    feature["evidence"] = [exchange]
    changed["features"]["chat.stream.done_sentinel"]["evidence"][0]["response"]["sse"] = [f"data: {hostile}"]
    changed["target"]["name"] = hostile
    changed["security_findings"] = [{"feature": "chat.n", "finding": hostile}]
    text = render_html(changed)
    assert "alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert sum(tag == "script" for tag, _ in _Elements(text).tags) == 1  # only the page's own


def test_stream_exchanges_show_their_sse_lines(results: dict[str, Any]) -> None:
    text = render_html(with_stream(results))
    sse = "\n".join(STREAM_EXCHANGE["response"]["sse"])
    assert f'<pre class="sse">{escape(sse)}</pre>' in text
    assert "Note: the stream closed after 2 events" in text


def test_curl_commands_in_the_page_read_the_key_from_the_environment(results: dict[str, Any]) -> None:
    curls = _Elements(render_html(with_stream(results))).curls
    assert len(curls) == 2
    for command in curls:
        assert "Bearer ***" not in command
        assert "$OPENAI_API_KEY" in command
    assert " -N " in curls[1]


def test_troubleshooting_and_security_findings_are_shown(results: dict[str, Any]) -> None:
    changed = copy.deepcopy(results)
    changed["features"]["chat.stream.done_sentinel"]["troubleshooting"] = [
        {"id": "stream-no-done", "symptom": "the SDK loop never ends", "fix": "send data: [DONE]"}
    ]
    changed["security_findings"] = [{"feature": "chat.n", "finding": "echoes the key"}]
    text = render_html(changed)
    assert "the SDK loop never ends" in text and "send data: [DONE]" in text and "stream-no-done" in text
    assert 'id="security"' in text and "echoes the key" in text and 'href="#ev-chat.n"' in text
    assert 'id="security"' not in render_html(results)


def test_header_reuses_the_markdown_verdict_wording(results: dict[str, Any]) -> None:
    text = render_html(results)
    assert "<strong>not certified</strong>: 2 supported, 1 unsupported, 1 nonconformant, 1 skipped, 1 error" in text
    assert "openai 3.54.0" in text and "openai-conformance 0.1.0" in text and "31 requests" in text


def test_the_page_opens_with_the_failures_linked_to_their_evidence(results: dict[str, Any]) -> None:
    results["features"]["chat.stream.done_sentinel"]["problems"] = [
        {"oracle": "wire", "message": "the stream ends without `data: [DONE]`"},
        {"oracle": "schema", "message": "the last chunk has no finish_reason"},
    ]
    text = render_html(results)
    page = _Elements(text)
    sections = page.ids("section")
    assert sections[0] == "failures" and sections.index("failures") < sections.index("matrix")
    failures = text[text.index('<section id="failures">') : text.index('<section id="matrix">')]
    for failure in gate_of(results).failures:
        feature_id, _, why = failure.partition(": ")
        assert f'href="#ev-{feature_id}"' in failures
    assert "could not decide a required feature" in failures  # the judgement, where it says more than the verdict
    assert "the last chunk has no finish_reason" in failures  # every problem, not the first one only
    clean = copy.deepcopy(results)
    for feature in clean["features"].values():
        feature["status"] = "supported"
    assert "Nothing fails the CI gate (compatible reading)." in render_html(clean)


def test_known_failures_and_contradicted_claims_are_among_the_failures(results: dict[str, Any]) -> None:
    results["features"]["chat.n"]["claim"] = {"claimed": "supported", "agrees": False}
    results["features"]["chat.stream.done_sentinel"]["known_failing"] = {
        "pattern": "chat.stream.done_sentinel",
        "reason": "fix in 2.0",
        "state": "still failing",
    }
    text = render_html(results)
    failures = text[text.index('<section id="failures">') : text.index('<section id="matrix">')]
    assert "claimed supported, declined" in failures and 'href="#ev-chat.n"' in failures
    assert "Known failures (1)" in failures and "known failure: fix in 2.0" in failures


EMOJI = ("\u2705", "\u26d4", "\u274c", "\u23ed", "\u26a0", "\ufe0f")


def test_verdict_marks_need_no_emoji_font(results: dict[str, Any]) -> None:
    # a stock Linux desktop has no emoji font: the marks are inline SVG, each defined once and used
    text = render_html(with_stream(results))
    assert not [c for c in EMOJI if c in text]
    page = _Elements(text)
    symbols = set(page.ids("symbol"))
    uses = [a["href"] for tag, a in page.tags if tag == "use"]
    assert {f"mark-{status}" for status in ("supported", "unsupported", "nonconformant", "skipped", "error")} <= symbols
    assert uses and all(href and href[1:] in symbols for href in uses)
    ET.fromstring(SPRITE)  # the marks' definitions are well-formed SVG
    for feature_id, feature in results["features"].items():
        row = text[text.index(f'<tr id="row-{feature_id}"') :]
        row = row[: row.index("</tr>")]
        assert f'<use href="#mark-{feature["status"]}"/></svg>{feature["status"]}</span>' in row


def long_stream(lines: int) -> list[str]:
    events = [f'data: {{"choices":[{{"index":0,"delta":{{"content":"w{i}"}}}}]}}' for i in range(lines // 2)]
    return [line for event in events for line in (event, "")]


def test_a_long_stream_shows_its_end(results: dict[str, Any]) -> None:
    changed = with_stream(results)
    response = changed["features"]["chat.stream.done_sentinel"]["evidence"][0]["response"]
    response["sse"] = long_stream(60)
    text = render_html(changed)
    box = text[text.index('<pre class="sse ends">') :]
    box = box[: box.index("</pre>")]
    shown = box.split("\n")  # the last line is the blank one that ends the last event
    assert len(shown) == SSE_HEAD_LINES + 1 + SSE_TAIL_LINES
    assert "w29" in shown[-2] and "w0" in shown[0]  # the last event, where [DONE] would follow, is in view
    assert f"… {60 - SSE_HEAD_LINES - SSE_TAIL_LINES} lines not shown: the last {SSE_TAIL_LINES} of 60 follow …" in box
    assert "All 60 recorded lines" in text  # and the whole stream, folded


def test_a_stream_longer_than_the_evidence_keeps_shows_its_recorded_end(results: dict[str, Any]) -> None:
    changed = with_stream(results)
    response = changed["features"]["chat.stream.done_sentinel"]["evidence"][0]["response"]
    response.update(sse=long_stream(400), sse_tail=["data: the very end", ""], sse_lines=1000, truncated=True)
    text = render_html(changed)
    box = text[text.index('<pre class="sse ends">') :]
    assert box.index("data: the very end") < box.index("</pre>")
    assert "… 598 lines not recorded …" in text
    response.pop("sse_lines")  # the middle of the stream was not recorded: its length is unknown
    response["body_bytes"] = 5_000_000
    assert "the middle of the stream was not recorded (5000000 bytes in all)" in render_html(changed)


# --- curl --------------------------------------------------------------------------------------------


def test_curl_for_a_post_with_a_json_body() -> None:
    request = {"method": "POST", "url": "https://h.example/v1/chat/completions", "headers": SDK_HEADERS}
    request["body"] = {"model": "m", "n": 2}
    command = curl_command(request)
    assert command == (
        "curl -sS -X POST 'https://h.example/v1/chat/completions' -H 'content-type: application/json' "
        "-H 'accept: application/json' -H \"Authorization: Bearer $OPENAI_API_KEY\" --data-binary @- <<'JSON'\n"
        '{\n  "model": "m",\n  "n": 2\n}\nJSON'
    )


def test_curl_drops_transport_and_sdk_headers() -> None:
    command = curl_command({"method": "GET", "url": "https://h.example/v1/models", "headers": SDK_HEADERS})
    for dropped in ("host", "content-length", "connection", "accept-encoding", "user-agent", "x-stainless"):
        assert dropped not in command
    assert "Bearer ***" not in command


def test_curl_for_a_get_has_no_body() -> None:
    command = curl_command({"method": "GET", "url": "https://h.example/v1/models", "headers": SDK_HEADERS})
    assert command == (
        "curl -sS -X GET 'https://h.example/v1/models' -H 'content-type: application/json' "
        "-H 'accept: application/json' -H \"Authorization: Bearer $OPENAI_API_KEY\""
    )
    assert "\n" not in command and "--data-binary" not in command


def test_curl_without_a_recorded_authorization_sends_none() -> None:
    command = curl_command({"method": "GET", "url": "https://h.example/v1/models", "headers": {"accept": "*/*"}})
    assert command == "curl -sS -X GET 'https://h.example/v1/models' -H 'accept: */*'"


def test_curl_for_a_stream_does_not_buffer() -> None:
    assert curl_command(STREAM_EXCHANGE["request"]).startswith("curl -sS -N -X POST ")
    assert " -N " not in curl_command(sample_results()["features"]["chat.n"]["evidence"][0]["request"])


def test_curl_sends_a_text_body_verbatim_and_picks_a_free_heredoc_delimiter() -> None:
    request = {"method": "POST", "url": "https://h.example/v1/x", "headers": {}, "body_text": "not json\nJSON\n$HOME"}
    command = curl_command(request)
    assert command.endswith("<<'JSON_END'\nnot json\nJSON\n$HOME\nJSON_END")
    assert "content-type" not in command  # not invented for a body that is not JSON


def test_curl_quotes_hostile_values() -> None:
    request = {
        "method": "POST",
        "url": "https://h.example/v1/x?q=a'b&c=$(rm -rf /)",
        "headers": {"content-type": "application/json; x='y'"},
        "body": {"a": 1},
    }
    words = shlex.split(curl_command(request).splitlines()[0])
    assert words[4] == "https://h.example/v1/x?q=a'b&c=$(rm -rf /)"
    assert words[6] == "content-type: application/json; x='y'"


@pytest.mark.parametrize(
    "request_",
    [
        STREAM_EXCHANGE["request"],
        sample_results()["features"]["chat.n"]["evidence"][0]["request"],
        {"method": "GET", "url": "https://h.example/v1/models", "headers": SDK_HEADERS},
    ],
    ids=["stream", "post", "get"],
)
def test_curl_is_valid_shell(request_: dict[str, Any]) -> None:
    command = curl_command(request_)
    first = shlex.split(command.splitlines()[0])
    assert first[0] == "curl" and first[first.index("-X") + 1] == request_["method"]
    if shutil.which("bash") is None:
        pytest.skip("no bash to run the command with")
    # curl replaced by a shell function that echoes its arguments and stdin: the real command, no network
    fake = 'curl() { printf "%s\\n" "$@"; printf "%s\\n" "--stdin--"; cat; }\n'
    run = subprocess.run(
        ["bash", "-c", fake + command],
        input="",
        capture_output=True,
        text=True,
        timeout=10,
        env={"OPENAI_API_KEY": "sk-test-123", "PATH": "/usr/bin:/bin"},
        check=True,
    )
    args, _, stdin = run.stdout.partition("--stdin--\n")
    assert "Authorization: Bearer sk-test-123" in args.splitlines()
    if "body" in request_ and request_["method"] != "GET":
        assert json.loads(stdin) == request_["body"]


# --- badge -------------------------------------------------------------------------------------------


def test_badge(results: dict[str, Any], snapshot) -> None:  # type: ignore[no-untyped-def]
    assert render_badge(results) == snapshot


def _badge_parts(svg: str) -> tuple[ET.Element, list[str], list[str]]:
    root = ET.fromstring(svg)
    fills = [rect.get("fill") or "" for rect in root.iter(f"{SVG}rect")]
    texts = [text.text or "" for text in root.iter(f"{SVG}text")]
    return root, fills, texts


def test_badge_not_certified_is_red_with_the_counts(results: dict[str, Any]) -> None:
    root, fills, texts = _badge_parts(render_badge(results))
    # the skipped feature is out of the count; the badge says which reading it shows
    assert badge_value(results) == "not certified (compatible) · 2/5"
    assert NOT_CERTIFIED_COLOUR in fills and CERTIFIED_COLOUR not in fills
    assert "openai-compatible" in texts and "not certified (compatible) · 2/5" in texts
    assert root.findtext(f"{SVG}title") == "openai-compatible: not certified (compatible) · 2/5"


def test_badge_certified_is_green(results: dict[str, Any]) -> None:
    for feature in results["features"].values():
        feature["status"] = "supported" if feature["status"] != "skipped" else "skipped"
    results["certified"] = True
    root, fills, texts = _badge_parts(render_badge(results))
    assert CERTIFIED_COLOUR in fills and NOT_CERTIFIED_COLOUR not in fills
    assert "certified (compatible) · 5/5" in texts
    assert root.get("role") == "img" and root.get("aria-label") == "openai-compatible: certified (compatible) · 5/5"


def test_the_badge_counts_in_the_reading_the_gate_judged(results: dict[str, Any]) -> None:
    # the sample's strict reading finds chat.stream.include_usage nonconformant: one supported fewer
    results["gate"] = {"passes": False, "failures": [], "reading": "strict"}
    assert badge_value(results) == "not certified (strict) · 1/5"


def test_badge_text_is_measured_as_shields_io_measures_it() -> None:
    # badge-maker's widths (Verdana 11px, anafanafo's table): its "build | passing" badge is 37 + 51 px
    assert preferred_width("build") == 27 and preferred_width("passing") == 41
    svg = ET.fromstring(render_badge({"certified": True, "features": {"a": {"status": "supported"}}}))
    texts = list(svg.iter(f"{SVG}text"))
    label_width = preferred_width("openai-compatible")
    assert texts[1].get("textLength") == str(label_width * 10)  # drawn at its measured width, not stretched
    assert texts[1].get("x") == str(round(10 * (1 + label_width / 2 + 5)))
    assert set(CHAR_WIDTHS) >= {chr(c) for c in range(32, 127)}
    assert text_width("iiii") < text_width("mmmm")  # not 7 px a character
    assert text_width("\u4e2d") == FALLBACK_WIDTH == CHAR_WIDTHS["m"]


def test_badge_endpoint_json(results: dict[str, Any]) -> None:
    endpoint = badge_endpoint(results)
    assert endpoint == {
        "schemaVersion": 1,
        "label": "openai-compatible",
        "message": badge_value(results),
        "color": NOT_CERTIFIED_COLOUR.removeprefix("#"),
        "labelColor": "555",
    }


def test_badge_width_grows_with_the_text(results: dict[str, Any]) -> None:
    narrow = ET.fromstring(render_badge({"certified": True, "features": {"a": {"status": "supported"}}}))
    wide = ET.fromstring(render_badge(results))
    assert int(narrow.get("width") or 0) < int(wide.get("width") or 0)
    rects = list(wide.iter(f"{SVG}rect"))
    assert int(rects[1].get("width") or 0) + int(rects[2].get("width") or 0) == int(wide.get("width") or 0)


# --- in a real browser -------------------------------------------------------------------------------


def run_chromium(url: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on one local URL, with every background service that could reach the network off."""
    command = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _png_has_content(path: Path) -> bool:
    """A PNG whose pixels are not all one colour (stdlib only: walk the chunks, inflate the image data)."""
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    offset, idat = 8, b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            idat += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    return len(set(zlib.decompress(idat))) > 16


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} to render the page")
def test_the_page_renders_in_chromium_and_targets_a_panel(results: dict[str, Any], tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(results), encoding="utf-8")
    url = page.as_uri() + "#ev-chat.n"

    dumped = run_chromium(url, tmp_path / "profile", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    assert '<table class="matrix">' in dom
    assert '<section class="panel s-unsupported" id="ev-chat.n">' in dom
    assert 'href="#ev-chat.n"' in dom

    shot = tmp_path / "shot.png"
    taken = run_chromium(url, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,1600")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 5_000
    assert _png_has_content(shot)


@pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM} to render the page")
def test_focus_shows_one_finding_alone(results: dict[str, Any], tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(results), encoding="utf-8")
    dumped = run_chromium(page.as_uri() + "?focus=chat.stream.done_sentinel", tmp_path / "profile", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    # the script ran: the page is in focus mode, with that panel marked and its exchanges open
    assert '<body class="focus">' in dumped.stdout
    assert 'class="panel s-nonconformant focused" id="ev-chat.stream.done_sentinel"' in dumped.stdout
    assert '<details class="exchange" open="">' in dumped.stdout
