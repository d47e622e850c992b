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

from conformance.report.markdown import (
    LEGEND,
    SYMBOLS,
    beyond_compatible,
    features_by_area,
    reading_line,
    strict_cell,
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
body.focus #matrix, body.focus .panel:not(.focused) { display: none; }
"""

# Opens the exchanges of the targeted panel (on load and on every in-page jump); :target does the rest.
# With ?focus=ID, shows only that feature's panel (a link to one finding).
SCRIPT = """
function openTarget() {
  var panel = null;
  try { panel = document.getElementById(decodeURIComponent(location.hash.slice(1))); } catch (e) {}
  if (panel) panel.querySelectorAll("details").forEach(function (d) { d.open = true; });
}
window.addEventListener("hashchange", openTarget);
openTarget();
// ?focus=<feature id>: that feature's evidence alone, for sharing one finding (and for screenshots)
var focus = new URLSearchParams(location.search).get("focus");
var focused = focus && document.getElementById("ev-" + focus);
if (focused) {
  document.body.classList.add("focus");
  focused.classList.add("focused");
  focused.querySelectorAll("details").forEach(function (d) { d.open = true; });
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
    state = "certified" if results.get("certified") else "not-certified"
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
        f'<p class="legend">{_markdown_inline(LEGEND)}</p>',
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
            strict = escape(strict_cell(feature))
            if feature_id in strict_only:
                strict = f'<a class="strict-only" href="#{_attr(feature_id, "ev-")}">{strict}</a>'
            lines.append(
                f'<tr id="{_attr(feature_id, "row-")}" class="s-{escape(status)}">'
                f"<td><code>{escape(feature_id)}</code> {escape(feature['title'])}</td>"
                f"<td>{escape(feature['level'])}</td>"
                f'<td class="verdict"><a href="#{_attr(feature_id, "ev-")}">{escape(SYMBOLS[status])}</a></td>'
                f'<td class="strict">{strict}</td>'
                f"<td>{escape(feature['reason'])}{_cause_link(feature)}</td></tr>"
            )
        lines += ["</tbody>", "</table>"]
    lines.append("</section>")
    return lines


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
        f'<p><span class="verdict">{escape(SYMBOLS[status])}</span> · {escape(feature["level"])} · '
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
            f"<h4>Strict reading: {escape(strict_cell(feature))}</h4>",
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
            lines.append(f'<pre class="sse">{escape(chr(10).join(response["sse"]))}</pre>')
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
        *_header(results),
        "<main>",
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
