"""``report.html``: the matrix and every feature's evidence in one self-contained page.

A pure function of results.json. Every piece of text in it may come from the server under test
(reasons, bodies, headers), so all of it goes through :func:`html.escape`; no server text becomes markup.
Opening ``report.html#ev-<feature id>`` highlights that feature's evidence panel through CSS ``:target``
(no ``#id`` selector, which the dots in feature ids would break) and a few lines of script open its exchanges.
"""

from __future__ import annotations

import json
import re
import shlex
from html import escape
from typing import Any

from conformance.policy import (
    Disposition,
    Reading,
    certification_of,
    gate_of,
    gate_reading,
    judgement_of,
    reading_status,
)
from conformance.report.markdown import (
    LEGEND,
    SYMBOLS,
    beyond_compatible,
    features_by_area,
    reading_line,
    strict_oracle_name,
    strict_problems,
    verdict_line,
)

# The request headers a reproduction needs; the rest (host, content-length, connection, accept-encoding,
# user-agent, x-stainless-*) are transport or SDK telemetry that curl supplies or that change nothing.
CURL_HEADERS = ("content-type", "accept")
CURL_AUTHORIZATION = '"Authorization: Bearer $OPENAI_API_KEY"'  # double quotes: the shell expands the key

STYLE = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --focus: #0969da; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1200px; padding: 1.5rem; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
h3 { font-size: 1.05rem; margin: 0 0 .25rem; }
h4 { font-size: .9rem; margin: .75rem 0 .25rem; text-transform: uppercase; letter-spacing: .03em;
  color: var(--muted); }
code, pre { font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem;
  margin: .25rem 0 .5rem; overflow: auto; max-height: 28rem; white-space: pre-wrap; word-break: break-all; }
pre.curl { user-select: all; background: #fff8c5; }
a { color: var(--focus); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; margin: 0 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.result { font-size: 1.05rem; padding: .5rem .75rem; border-radius: 6px; border: 1px solid var(--line); }
.result.certified { background: #dafbe1; border-color: #4ac26b; }
.result.not-certified { background: #ffebe9; border-color: #ff8182; }
.result.partial { background: #f6f8fa; border-color: #afb8c1; }
.legend, .muted { color: var(--muted); font-size: .85rem; }
.security { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px; padding: .5rem 1rem; }
table.matrix { border-collapse: collapse; width: 100%; margin-bottom: 1rem; }
table.matrix th, table.matrix td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left;
  vertical-align: top; }
table.matrix th { background: var(--soft); }
table.matrix td.verdict { white-space: nowrap; }
tr:target { outline: 2px solid var(--focus); }
.s-supported { --status: #1a7f37; }
.s-unsupported { --status: #9a6700; }
.s-nonconformant { --status: #cf222e; }
.s-skipped { --status: #59636e; }
.s-error { --status: #bc4c00; }
td.verdict a, .panel .verdict { color: var(--status); font-weight: 600; }
td.strict { white-space: nowrap; }
td.strict a.strict-only { color: #cf222e; font-weight: 600; }
.reading { color: var(--muted); }
.panel { border: 1px solid var(--line); border-left: 6px solid var(--status); border-radius: 6px;
  padding: .75rem 1rem; margin: 0 0 1rem; scroll-margin-top: 1rem; }
.panel:target { border-color: var(--focus); border-left-color: var(--status); background: #f0f6ff;
  box-shadow: 0 0 0 4px rgba(9, 105, 218, .3); }
.panel:target h3::after { content: "linked"; margin-left: .5rem; padding: .05rem .4rem; border-radius: 3px;
  background: var(--focus); color: #fff; font-size: .75rem; font-weight: normal; vertical-align: middle; }
.panel .reason { margin: .25rem 0; }
details.exchange { border-top: 1px dashed var(--line); margin-top: .5rem; padding-top: .25rem; }
details.exchange > summary { cursor: pointer; font-family: ui-monospace, Menlo, Consolas, monospace;
  font-size: 13px; }
.failure { color: #cf222e; }
.mark { white-space: nowrap; }
.mark svg { width: 1em; height: 1em; vertical-align: -.15em; margin-right: .3em; }
.m-supported { color: #1a7f37; }
.m-unsupported { color: #9a6700; }
.m-nonconformant { color: #cf222e; }
.m-skipped { color: #59636e; }
.m-error { color: #bc4c00; }
#failures { border: 1px solid #ff8182; background: #fff8f7; border-radius: 6px; padding: .25rem 1rem .5rem;
  margin-top: 1rem; }
#failures.passes { border-color: #4ac26b; background: #f6fff8; }
#failures h2 { border: 0; margin-top: .5rem; }
#failures li { margin: .35rem 0; }
#failures .why { font-weight: 600; }
#failures .detail { color: var(--ink); margin: .1rem 0 0; }
pre.sse.ends { max-height: none; }
.elided { color: var(--muted); font-style: italic; }
details.sse-all > summary { cursor: pointer; color: var(--muted); font-size: .85rem; }
body.focus #failures, body.focus #causes, body.focus #matrix, body.focus .panel:not(.focused) { display: none; }
"""

# Opens the exchanges of the targeted panel (on load and on every in-page jump); :target does the rest.
# With ?focus=ID, shows only that feature's panel (a link to one finding).
SCRIPT = """
function openTarget() {
  var panel = null;
  try { panel = document.getElementById(decodeURIComponent(location.hash.slice(1))); } catch (e) {}
  if (panel) panel.querySelectorAll("details.exchange").forEach(function (d) { d.open = true; });
}
window.addEventListener("hashchange", openTarget);
openTarget();
// ?focus=<feature id>: that feature's evidence alone, for sharing one finding (and for screenshots)
var focus = new URLSearchParams(location.search).get("focus");
var focused = focus && document.getElementById("ev-" + focus);
if (focused) {
  document.body.classList.add("focus");
  focused.classList.add("focused");
  focused.querySelectorAll("details.exchange").forEach(function (d) { d.open = true; });
}
"""


def curl_command(request: dict[str, Any]) -> str:
    """A copy-paste curl command reproducing a recorded request, the key read from ``$OPENAI_API_KEY``."""
    method = request["method"].upper()
    headers = {name.lower(): value for name, value in (request.get("headers") or {}).items()}
    body = None if method == "GET" else _request_body(request)
    json_body = request.get("body")
    parts = ["curl", "-sS"]
    if isinstance(json_body, dict) and json_body.get("stream") is True:
        parts.append("-N")  # print the events as they arrive
    parts += ["-X", shlex.quote(method), _single_quoted(request["url"])]
    if body is not None and "body" in request and "content-type" not in headers:
        headers["content-type"] = "application/json"  # else curl would send a form content type
    for name in CURL_HEADERS:
        if name in headers:
            parts += ["-H", _single_quoted(f"{name}: {headers[name]}")]
    if "authorization" in headers:
        parts += ["-H", CURL_AUTHORIZATION]
    if body is None:
        return " ".join(parts)
    delimiter = "JSON"
    while delimiter in body.splitlines():
        delimiter += "_END"
    parts += ["--data-binary", "@-", f"<<'{delimiter}'"]
    return f"{' '.join(parts)}\n{body}\n{delimiter}"


def _single_quoted(text: str) -> str:
    """Quote for a POSIX shell, always (``shlex.quote`` leaves plain words bare; URLs read better quoted)."""
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _request_body(request: dict[str, Any]) -> str | None:
    if "body" in request:
        return _pretty(request["body"])
    if "body_text" in request:
        return str(request["body_text"])
    return None


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _markdown_inline(text: str) -> str:
    """Escape a line written for Markdown (the shared verdict wording), keeping its bold and code spans."""
    marked = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escape(text))
    return re.sub(r"`(.+?)`", r"<code>\1</code>", marked)


def _attr(feature_id: str, prefix: str) -> str:
    return escape(f"{prefix}{feature_id}")


# Verdict marks drawn as inline SVG in the verdict's colour: the Markdown pages' emoji (✅ ⛔ ❌ ⏭️ ⚠️)
# need an emoji font, which a stock Linux desktop lacks (they show as empty boxes). Each is defined
# once (``SPRITE``) and used by reference; the word beside it carries the meaning for screen readers.
_WHITE = 'fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"'
MARK_SHAPES = {
    "supported": f'<circle cx="8" cy="8" r="8"/><path d="M4.5 8.4 7 10.8l4.6-5.3" {_WHITE}/>',
    "unsupported": '<circle cx="8" cy="8" r="8"/><path d="M4.2 8h7.6" fill="none" stroke="#fff" stroke-width="2.4" '
    'stroke-linecap="round"/>',
    "nonconformant": f'<circle cx="8" cy="8" r="8"/><path d="m5.2 5.2 5.6 5.6m0-5.6-5.6 5.6" {_WHITE}/>',
    "skipped": f'<circle cx="8" cy="8" r="8"/><path d="m4.6 5.2 2.8 2.8-2.8 2.8m4-5.6 2.8 2.8-2.8 2.8" {_WHITE}/>',
    "error": f'<path d="M8 .8 15.6 15H.4z"/><path d="M8 6v4.2m0 2.4v.1" {_WHITE}/>',
}
SPRITE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="0" height="0" style="position:absolute" aria-hidden="true">'
    + "".join(
        f'<symbol id="mark-{status}" viewBox="0 0 16 16" fill="currentColor">{shape}</symbol>'
        for status, shape in MARK_SHAPES.items()
    )
    + "</svg>"
)


def _mark(status: str, *, word: bool = True) -> str:
    """A verdict as its mark and its word, in its colour: ``(x) nonconformant``."""
    return (
        f'<span class="mark m-{escape(status)}"><svg aria-hidden="true" focusable="false">'
        f'<use href="#mark-{escape(status)}"/></svg>{escape(status) if word else ""}</span>'
    )


def _strict_mark(feature: dict[str, Any]) -> str:
    """The feature's verdict in the strict reading ("—" when it was not judged there)."""
    status = ((feature.get("readings") or {}).get("strict") or {}).get("status")
    return _mark(status) if status else "—"


def _legend() -> str:
    """The Markdown legend's wording, each emoji replaced by its mark."""
    items = []
    for item in LEGEND.split(" · "):
        for status, symbol in SYMBOLS.items():
            emoji = symbol.split(" ", 1)[0]
            if item.startswith(emoji + " "):
                item = item.removeprefix(emoji + " ")
                items.append(_mark(status, word=False) + _markdown_inline(item))
                break
        else:
            items.append(_markdown_inline(item))
    return " · ".join(items)


def _header(results: dict[str, Any]) -> list[str]:
    target = results["target"]
    title = target.get("name") or target["base_url"]
    where = " (embedded reference mock)" if target.get("embedded_mock") else ""
    models = ", ".join(f"{capability} {name}" for capability, name in sorted(target["models"].items()))
    facts = [
        ("Target", f"<code>{escape(target['base_url'])}</code>{escape(where)}"),
        ("Models", escape(models)),
        ("SDK", escape(f"{results['sdk']['package']} {results['sdk']['version']}")),
        ("Tool", escape(f"{results['tool']['name']} {results['tool']['version']}")),
        (
            "Run",
            escape(
                f"{results['started_at']}, {results['duration_s']} s, {results['requests']} requests, "
                f"{results['completion_tokens_requested']} completion tokens requested"
            ),
        ),
    ]
    backoffs = (results.get("politeness") or {}).get("backoffs") or []
    if backoffs:
        facts.append(("Rate limits", f"backed off {len(backoffs)} time(s) on 429, honouring Retry-After"))
    state = certification_of(results).value.replace(" ", "-")  # certified, not-certified, partial
    lines = [
        "<header>",
        f"<h1>OpenAI compatibility: {escape(title)}</h1>",
        '<dl class="facts">',
        *(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in facts),
        "</dl>",
        f'<p class="result {state}">{_markdown_inline(verdict_line(results))}</p>',
    ]
    line = reading_line(results)
    if line:
        lines.append(f'<p class="reading">{_markdown_inline(line)}</p>')
    lines += [
        f'<p class="legend">{_legend()}</p>',
    ]
    security = results.get("security_findings") or []
    if security:
        lines += [
            '<section class="security" id="security">',
            f"<h2>Security findings ({len(security)})</h2>",
            '<p class="muted">They are not compatibility verdicts.</p>',
            "<ul>",
            *(
                f'<li><a href="#{_attr(item["feature"], "ev-")}"><code>{escape(item["feature"])}</code></a>: '
                f"{escape(str(item['finding']))}</li>"
                for item in security
            ),
            "</ul>",
            "</section>",
        ]
    lines.append("</header>")
    return lines


def _matrix(grouped: list[tuple[str, str, list[tuple[str, dict[str, Any]]]]], strict_only: set[str]) -> list[str]:
    lines = ['<section id="matrix">']
    for area, title, features in grouped:
        lines += [
            f'<h2 id="{_attr(area, "area-")}">{escape(title)}</h2>',
            '<table class="matrix">',
            "<thead><tr><th>Feature</th><th>Level</th><th>Verdict</th><th>Strict</th><th>Reason</th></tr></thead>",
            "<tbody>",
        ]
        for feature_id, feature in features:
            status = feature["status"]
            strict = _strict_mark(feature)
            if feature_id in strict_only:
                strict = f'<a class="strict-only" href="#{_attr(feature_id, "ev-")}">{strict}</a>'
            lines.append(
                f'<tr id="{_attr(feature_id, "row-")}" class="s-{escape(status)}">'
                f"<td><code>{escape(feature_id)}</code> {escape(feature['title'])}</td>"
                f"<td>{escape(feature['level'])}</td>"
                f'<td class="verdict"><a href="#{_attr(feature_id, "ev-")}">{_mark(status)}</a></td>'
                f'<td class="strict">{strict}</td>'
                f"<td>{escape(feature['reason'])}{_cause_link(feature)}</td></tr>"
            )
        lines += ["</tbody>", "</table>"]
    lines.append("</section>")
    return lines


def _failures(results: dict[str, Any]) -> list[str]:
    """What fails the CI gate, first thing on the page, each linked to its evidence: the gate's reasons
    (each failing feature's judgement and its whole reason; the run's own, such as an interruption),
    then the known failures, which pass the gate but are never certified."""
    reading = gate_reading(results)
    features = results["features"]
    gate = gate_of(results)
    known = [
        (feature_id, feature)
        for feature_id, feature in features.items()
        if judgement_of(feature, reading).disposition is Disposition.EXPECTED_FAIL
    ]
    if gate.passes and not known:
        return [
            '<section id="failures" class="passes">',
            f"<h2>Failures: none</h2><p>Nothing fails the CI gate ({escape(reading.value)} reading).</p>",
            "</section>",
        ]
    lines = ['<section id="failures">']
    if gate.failures:
        lines += [
            f"<h2>Failures ({len(gate.failures)})</h2>",
            f'<p class="muted">What fails the CI gate ({escape(reading.value)} reading); each links to its '
            "evidence below.</p>",
            "<ul>",
        ]
        for failure in gate.failures:
            subject, _, why = failure.partition(": ")
            feature = features.get(subject)
            if feature is None:  # a reason of the run's, not of one feature
                lines.append(f'<li><span class="why">{escape(failure)}</span></li>')
                continue
            lines.append(_failure_item(subject, feature, why, reading_status(feature, reading).value, reading))
        lines.append("</ul>")
    if known:
        lines += [
            f"<h3>Known failures ({len(known)})</h3>",
            '<p class="muted">Excused by the target file: the gate passes them, certification does not.</p>',
            "<ul>",
            *(
                _failure_item(feature_id, feature, judgement_of(feature, reading).why, feature["status"], reading)
                for feature_id, feature in known
            ),
            "</ul>",
        ]
    return [*lines, "</section>"]


def _failure_item(feature_id: str, feature: dict[str, Any], why: str, status: str, reading: Reading) -> str:
    reasons = [str(feature["reason"])]
    problems = [f"{p['oracle']}: {p['message']}" for p in feature.get("problems") or ()]
    if len(problems) > 1:  # the reason names the first and counts the rest: all of them, here
        reasons = problems
    if reading is Reading.STRICT:
        reasons += [f"strict: {message}" for message in strict_problems(feature)]
    details = "".join(f'<p class="detail">{escape(reason)}</p>' for reason in reasons)
    # the judgement, when it says more than the verdict: "claimed supported, broken", "known failure: ..."
    judged = f': <span class="why">{escape(why)}</span>' if why != status else ""
    return (
        f'<li>{_mark(status)} <a href="#{_attr(feature_id, "ev-")}"><code>{escape(feature_id)}</code></a> '
        f"{escape(feature['title'])}{judged}{details}</li>"
    )


def _causes(results: dict[str, Any]) -> list[str]:
    """The server behaviours behind several failures, named once, before the per-area tables."""
    causes = results.get("causes") or []
    if not causes:
        return []
    lines = ['<section id="causes">', "<h2>Root causes</h2>", "<ul>"]
    for cause in causes:
        links = ", ".join(
            f'<a href="#{_attr(feature_id, "ev-")}"><code>{escape(feature_id)}</code></a>'
            for feature_id in cause["features"]
        )
        lines.append(
            f'<li id="{_attr(cause["id"], "")}"><strong>{escape(cause["summary"])}</strong> '
            f'<span class="muted">({len(cause["features"])} features: {links})</span></li>'
        )
    return [*lines, "</ul>", "</section>"]


def _cause_link(feature: dict[str, Any]) -> str:
    cause = feature.get("cause")
    if not cause:
        return ""
    return f' <a class="muted" href="#{_attr(cause, "")}">(root cause {escape(cause)})</a>'


def _panel(feature_id: str, feature: dict[str, Any], oracle: str) -> list[str]:
    status = feature["status"]
    meta = [feature.get("endpoint"), f"oracle {feature['oracle']}" if feature.get("oracle") else None]
    meta.append(f"{feature['duration_s']} s" if "duration_s" in feature else None)
    lines = [
        f'<section class="panel s-{escape(status)}" id="{_attr(feature_id, "ev-")}">',
        f'<h3><a href="#{_attr(feature_id, "row-")}" title="back to the matrix"><code>{escape(feature_id)}</code></a> '
        f"{escape(feature['title'])}</h3>",
        f'<p><span class="verdict">{_mark(status)}</span> · {escape(feature["level"])} · '
        f'<span class="muted">{escape(" · ".join(m for m in meta if m))}</span></p>',
        f'<p class="reason">{escape(feature["reason"])}</p>',
    ]
    problems = feature.get("problems") or []
    if problems:
        lines += ["<h4>Problems</h4>", "<ul>"]
        lines += [f"<li><strong>{escape(p['oracle'])}</strong>: {escape(p['message'])}</li>" for p in problems]
        lines.append("</ul>")
    found = strict_problems(feature)
    if found:
        lines += [
            f"<h4>Strict reading: {_strict_mark(feature)}</h4>",
            f'<p class="muted">Found in this evidence by {escape(oracle)}.</p>',
            "<ul>",
            *(f'<li class="strict-problem">{escape(message)}</li>' for message in found),
            "</ul>",
        ]
    lists = (("Notes", feature.get("notes")), ("Vendor extensions", feature.get("extensions")))
    for heading, items in lists:
        if items:
            lines += [f"<h4>{heading}</h4>", "<ul>", *(f"<li>{escape(str(item))}</li>" for item in items), "</ul>"]
    guides = feature.get("troubleshooting") or []
    if guides:
        lines += ["<h4>Troubleshooting</h4>", "<dl>"]
        for guide in guides:
            lines += [
                f'<dt>{escape(guide["symptom"])} <span class="muted">({escape(guide["id"])})</span></dt>',
                f"<dd>{escape(guide['fix'])}</dd>",
            ]
        lines.append("</dl>")
    evidence = feature.get("evidence") or []
    if evidence:
        lines.append(f"<h4>Evidence ({len(evidence)} exchange{'s' if len(evidence) != 1 else ''})</h4>")
        # a passing feature's exchanges start folded; the targeted panel's are opened by SCRIPT
        is_open = "" if status == "supported" else " open"
        for exchange in evidence:
            lines += _exchange(exchange, is_open)
    else:
        lines.append('<p class="muted">No exchanges recorded.</p>')
    lines.append("</section>")
    return lines


def _exchange(exchange: dict[str, Any], is_open: str) -> list[str]:
    request = exchange["request"]
    response = exchange.get("response")
    failure = exchange.get("failure")
    request_line = f"{request['method']} {request['url']}"
    if response is not None:
        outcome = str(response["status"])
        if "elapsed_ms" in response:
            outcome += f" in {response['elapsed_ms']} ms"
    else:
        outcome = failure["kind"] if failure else "no response"
    lines = [
        f'<details class="exchange"{is_open}>',
        f"<summary>{escape(request_line)} → {escape(outcome)}</summary>",
        "<h4>Request</h4>",
        f'<pre class="http">{escape(_head(request_line, request.get("headers") or {}))}</pre>',
    ]
    body = _request_body(request)
    if body is not None:
        lines.append(f'<pre class="body">{escape(body)}</pre>')
    if response is not None:
        lines += [
            "<h4>Response</h4>",
            f'<pre class="http">{escape(_head(f"HTTP {outcome}", response.get("headers") or {}))}</pre>',
        ]
        if "sse" in response:
            lines += _sse(response)
        elif "body" in response:
            lines.append(f'<pre class="body">{escape(_pretty(response["body"]))}</pre>')
        elif "body_text" in response:
            lines.append(f'<pre class="body">{escape(response["body_text"])}</pre>')
        if response.get("truncated"):
            lines.append(
                f'<p class="muted">Truncated: the body had {escape(str(response.get("body_bytes")))} bytes.</p>'
            )
    if failure:
        lines.append(f'<p class="failure"><strong>{escape(failure["kind"])}</strong>: {escape(failure["detail"])}</p>')
    if exchange.get("note"):
        lines.append(f'<p class="note">Note: {escape(exchange["note"])}</p>')
    lines += ["<h4>Reproduce</h4>", f'<pre class="curl">{escape(curl_command(request))}</pre>', "</details>"]
    return lines


# A long stream's box shows its first and last lines: the end is where a missing `data: [DONE]`, a
# last chunk without finish_reason or a stream cut short shows, and a scrolled box hides it.
SSE_HEAD_LINES, SSE_TAIL_LINES = 6, 16
SSE_LINE_CHARS = 600  # a line longer than this is cut in the short view (the whole is in "all lines")


def _sse(response: dict[str, Any]) -> list[str]:
    """The stream's lines; a long one as its first and last lines around a marker, all of them folded
    below. ``sse_tail`` (evidence of a stream longer than ``sse`` keeps) is the end of the stream and
    ``sse_lines`` how many lines it had in all, when its middle was recorded too."""
    head, tail = list(response["sse"]), list(response.get("sse_tail") or ())
    total = response.get("sse_lines")
    if not tail and len(head) <= SSE_HEAD_LINES + SSE_TAIL_LINES + 2:
        return [f'<pre class="sse">{escape(chr(10).join(head))}</pre>']
    if tail and total:
        gap = f"… {total - len(head) - len(tail)} lines not recorded …"
    else:
        gap = f"… the middle of the stream was not recorded ({response.get('body_bytes', '?')} bytes in all) …"
    recorded = head + ([gap] if tail else []) + tail
    last = (tail or head)[-SSE_TAIL_LINES:]
    if tail and not total:
        marker = f"… lines not shown: the last {len(last)} lines of the stream follow …"
    else:
        count = total or len(head)
        marker = f"… {count - SSE_HEAD_LINES - len(last)} lines not shown: the last {len(last)} of {count} follow …"
    shown = [
        *(escape(_cut(line)) for line in head[:SSE_HEAD_LINES]),
        f'<span class="elided">{escape(marker)}</span>',
        *(escape(_cut(line)) for line in last),
    ]
    return [
        f'<pre class="sse ends">{chr(10).join(shown)}</pre>',
        f'<details class="sse-all"><summary>All {len(recorded)} recorded lines</summary>',
        f'<pre class="sse">{escape(chr(10).join(recorded))}</pre>',
        "</details>",
    ]


def _cut(line: str) -> str:
    return line if len(line) <= SSE_LINE_CHARS else f"{line[:SSE_LINE_CHARS]} … ({len(line)} characters)"


def _head(first_line: str, headers: dict[str, str]) -> str:
    return "\n".join([first_line, *(f"{name}: {value}" for name, value in headers.items())])


def render_html(results: dict[str, Any]) -> str:
    """The whole run as one self-contained HTML page: header, matrix per area, one evidence panel per feature."""
    target = results["target"]
    title = target.get("name") or target["base_url"]
    grouped = features_by_area(results)
    lines = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>OpenAI compatibility: {escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        SPRITE,
        *_header(results),
        "<main>",
        *_failures(results),
        *_causes(results),
        *_matrix(grouped, set(beyond_compatible(results))),
        '<section id="evidence">',
        "<h2>Evidence</h2>",
    ]
    for _area, _title, features in grouped:
        for feature_id, feature in features:
            lines += _panel(feature_id, feature, strict_oracle_name(results))
    lines += ["</section>", "</main>", f"<script>{SCRIPT}</script>", "</body>", "</html>", ""]
    return "\n".join(lines)
