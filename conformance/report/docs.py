"""The vendor's "what we support" page, generated from a run (several runs compared: ``comparison.py``).

Pure functions of results.json documents: the page's tables come from the layout the run carries
(``results["docs"]``, from matrix.yaml), each row a verdict over its features:

- **Yes**: every decided feature is supported;
- **No**: every decided feature was declined honestly (the note says how: "400 with param n");
- **Partial**: some supported, some declined;
- **Broken**: a feature is nonconformant: the documented behaviour breaks the SDK, and the note says
  how, linking to the evidence in the HTML report;
- **Not tested**: nothing decided (no model for it, or the harness could not decide).

The rows read the compatible reading (what the SDK needs); a line under the title says which reading
the verdict shows and what the strict one (OpenAI's published schemas) adds, and a section lists
the features the strict reading alone finds fault with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from conformance.policy import Reading, gate_reading, reading_status
from conformance.report.comparison import render_comparison as render_comparison  # its old home: still importable
from conformance.report.markdown import (
    SYMBOLS,
    beyond_compatible,
    cell,
    claims_section,
    has_strict_reading,
    literal,
    open_responses_line,
    reading_line,
    strict_oracle_name,
    strict_problems,
    verdict_line,
)
from conformance.target import name_slug

YES, NO, PARTIAL, BROKEN, NOT_TESTED = "Yes", "No", "Partial", "Broken", "Not tested"
# features whose notes say how to configure a client (base-URL variants, trailing slash, redirects)
CONFIGURE_NOTES = ("http.path.misconfigured_base_url", "http.path.trailing_slash", "http.redirect.post")
STATUS_LEGEND = (
    "**Yes**: works with the official openai SDK · **No**: not offered, and said so in OpenAI's error "
    "envelope · **Partial**: some of it · **Broken**: answered, but in a way that breaks the SDK "
    "(details linked) · **Not tested**: not configured for this run"
)


@dataclass(frozen=True)
class RowVerdict:
    id: str
    label: str
    status: str
    notes: str
    features: tuple[str, ...]
    evidence: str | None = None  # the feature whose evidence explains a Broken / No row


def slug(results: dict[str, Any]) -> str:
    """A file-name-safe name for the target of a run."""
    target = results["target"]
    return name_slug(target.get("name") or re.sub(r"^https?://", "", target["base_url"]))


def decline_summary(feature: dict[str, Any]) -> str:
    """How a server declined, from the evidence: '400 with param n', '404 in the envelope'."""
    for exchange in reversed(feature.get("evidence") or []):
        response = exchange.get("response") or {}
        status = response.get("status")
        if not isinstance(status, int) or status < 400:
            continue
        body = response.get("body")
        error = body.get("error") if isinstance(body, dict) else None
        param = error.get("param") if isinstance(error, dict) else None
        return f"{status} with param {param}" if param else f"{status} in the error envelope"
    return feature["reason"]


def row_verdicts(results: dict[str, Any]) -> list[tuple[str, str, list[RowVerdict]]]:
    """(section title, first column name, rows) for the docs page, extension rows only where seen."""
    features: dict[str, dict[str, Any]] = results["features"]
    layout = results.get("docs") or []
    prefixes = [row["extensions"] for section in layout for row in section["rows"] if row.get("extensions")]
    sections = []
    for section in layout:
        rows = []
        for row in section["rows"]:
            present = [f for f in row["features"] if f in features]
            if not present:
                continue
            if row.get("extensions"):
                verdict = _extension_row(row, present, features, prefixes)
                if verdict is not None:
                    rows.append(verdict)
                continue
            rows.append(_row(row, present, features))
        if rows:
            sections.append((section["title"], section["column"], rows))
    return sections


def _row(row: dict[str, Any], present: list[str], features: dict[str, dict[str, Any]]) -> RowVerdict:
    verdict = _judged_row(row, present, features)
    if row.get("consequence") and verdict.status in (NO, BROKEN):  # which tools stop working, from the catalog
        return replace(verdict, notes=f"{verdict.notes} {row['consequence']}")
    return verdict


def _judged_row(row: dict[str, Any], present: list[str], features: dict[str, dict[str, Any]]) -> RowVerdict:
    statuses = {f: features[f]["status"] for f in present}
    decided = {f: s for f, s in statuses.items() if s not in ("skipped", "error")}
    broken = [f for f, s in decided.items() if s == "nonconformant"]
    declined = [f for f, s in decided.items() if s == "unsupported"]
    working = [f for f, s in decided.items() if s == "supported"]
    ids = tuple(present)
    if broken:
        first = features[broken[0]]
        return RowVerdict(row["id"], row["label"], BROKEN, f"Breaks the SDK: {first['reason']}", ids, broken[0])
    if not decided:
        return RowVerdict(row["id"], row["label"], NOT_TESTED, features[present[0]]["reason"], ids)
    if not working:
        first = features[declined[0]]
        return RowVerdict(row["id"], row["label"], NO, f"Declined: {decline_summary(first)}.", ids, declined[0])
    if declined:
        parts = [f"{features[f]['title']} ({decline_summary(features[f])})" for f in declined]
        return RowVerdict(row["id"], row["label"], PARTIAL, "Not: " + "; ".join(parts) + ".", ids, declined[0])
    # extension fields get their own rows, base-URL diagnostics the "configure" section
    notes = [
        n
        for f in working
        if f not in CONFIGURE_NOTES
        for n in features[f].get("notes") or ()
        if "extension fields" not in n
    ]
    return RowVerdict(row["id"], row["label"], YES, notes[0] if notes else "—", ids)


def _extension_row(
    row: dict[str, Any], present: list[str], features: dict[str, dict[str, Any]], prefixes: list[str]
) -> RowVerdict | None:
    prefix = row["extensions"]
    seen = sorted({e for f in present for e in features[f].get("extensions") or () if e.startswith(prefix)})
    # each field belongs to the row with the most specific prefix
    mine = [e for e in seen if max((p for p in prefixes if e.startswith(p)), key=len) == prefix]
    if not mine:
        return None
    # "ChatCompletion.usage.x" reads as "usage.x"; "error.doc_url" stays as it is
    type_name = prefix.split(".", 1)[0]
    shown = type_name + "." if type_name[:1].isupper() else ""
    label = ", ".join(e.removeprefix(shown) for e in mine)
    notes = "Vendor extension (additive): the SDK keeps it as an extra attribute; other clients ignore it."
    return RowVerdict(row["id"], label, YES, notes, tuple(present))


def render_docs_page(results: dict[str, Any], *, report: str | None = None) -> str:
    """The page; ``report`` is the HTML report's file name, for links to evidence."""
    target = results["target"]
    title = target.get("name") or target["base_url"]
    lines = [
        f"# {literal(title)}: OpenAI compatibility",
        "",
        f"Generated by {results['tool']['name']} {results['tool']['version']} from a run on "
        f"{results['started_at']} with the official SDK {results['sdk']['package']} {results['sdk']['version']}: "
        f"{verdict_line(results)}.",
        "",
    ]
    line = reading_line(results)
    if line:
        lines += [f"{line}.", ""]
    score = open_responses_line(results)
    if score:
        lines += [f"{score} ([below](#open-responses-compliance)).", ""]
    lines += _configure_section(results)
    lines += [STATUS_LEGEND, ""]
    for title_, column, rows in row_verdicts(results):
        lines += [f"## {title_}", "", f"| {column} | Supported | Notes |", "|---|---|---|"]
        for row in rows:
            notes = cell(row.notes, 300)
            if row.evidence and report:
                notes += f" ([evidence]({report}#ev-{row.evidence}))"
            lines.append(f"| {cell(row.label, 120)} | {row.status} | {notes} |")
        lines.append("")
    lines += _open_responses_section(results, report)
    lines += claims_section(results)
    lines += _strict_section(results, report)
    security = results.get("security_findings") or []
    if security:
        lines += ["## Security findings", ""] + [f"- {cell(s['finding'])}" for s in security] + [""]
    return "\n".join(lines)


OPEN_RESPONSES_STATES = {
    "passed": "Passes",
    "failed": "Fails",
    "not tested": "Not tested",
    "not covered": "Not covered",
    "not applicable": "Not applicable",
}


def _open_responses_section(results: dict[str, Any], report: str | None) -> list[str]:
    """The Open Responses suite's tests as the run's verdicts score them (``results["open_responses"]``)."""
    score = results.get("open_responses") or {}
    if not score.get("decided"):
        return []
    source = f"[{score['suite']}]({score['source']})" if score.get("source") else score["suite"]
    lines = [
        "## Open Responses compliance",
        "",
        f"{score['passed']} of the {score['applicable']} tests of the {source} compliance suite that this suite "
        f"covers would pass, read from this run's verdicts ({score['reading']} reading): a test passes when every "
        "feature covering it is supported. Tests not covered or not applicable count in neither number.",
        "",
        "| Open Responses test | Result | Why |",
        "|---|---|---|",
    ]
    for test in score["tests"]:
        why = _open_responses_why(test)
        because = test.get("because") or ()
        if report and because and test["state"] == "failed":
            why += f" ([evidence]({report}#ev-{because[0]['feature']}))"
        name = f"`{test['id']}` {cell(test['name'], 60)}"
        lines.append(f"| {name} | {OPEN_RESPONSES_STATES[test['state']]} | {why} |")
    lines.append("")
    surfaces = score.get("not_applicable") or {}
    if surfaces:
        lines += ["Not applicable to open implementations, so never counted as unsupported:", ""]
        lines += [f"- **{cell(surface, 120)}**: {cell(why, 300)}" for surface, why in surfaces.items()]
        lines.append("")
    return lines


def _open_responses_why(test: dict[str, Any]) -> str:
    if test["state"] in ("not covered", "not applicable"):
        return cell(test.get("not_covered") or test.get("not_applicable") or "", 300)
    if test["state"] == "passed":
        return "Covered by " + ", ".join(f"`{feature}`" for feature in test.get("features") or ())
    # features failed by the same answer (a 404 for the whole route) are named together, the answer once
    grouped: dict[tuple[str, str], list[str]] = {}
    for because in test.get("because") or ():
        grouped.setdefault((because["status"], because["reason"]), []).append(f"`{because['feature']}`")
    parts = [f"{', '.join(named)} {status}: {reason}" for (status, reason), named in grouped.items()]
    return cell("; ".join(parts), 300)


def _strict_section(results: dict[str, Any], report: str | None) -> list[str]:
    """The features only the strict reading finds fault with, and what it finds."""
    if not has_strict_reading(results):
        return []
    lines = [
        f"## Strict reading: {strict_oracle_name(results)}",
        "",
        "The rows above are what the official SDK needs. The strict reading also holds every answer to "
        "OpenAI's published schemas (keys they require, even when null).",
        "",
    ]
    stricter = beyond_compatible(results)
    if not stricter:
        return lines + ["It finds nothing more.", ""]
    lines += ["| Feature | Strict | Finding |", "|---|---|---|"]
    for feature_id in stricter:
        feature = results["features"][feature_id]
        finding = cell("; ".join(strict_problems(feature)[:2]), 300)
        if report:
            finding += f" ([evidence]({report}#ev-{feature_id}))"
        lines.append(f"| `{feature_id}` | {SYMBOLS[reading_status(feature, Reading.STRICT).value]} | {finding} |")
    return lines + [""]


def _configure_section(results: dict[str, Any]) -> list[str]:
    """How to configure a client, from what the run saw of base URLs, auth and models."""
    target = results["target"]
    models = target.get("models") or {}
    chat = models.get("chat", "MODEL")
    lines = [
        "## How to configure your client",
        "",
        f"- **Base URL**: `{target['base_url']}`, exactly as given to the SDK (it appends `/chat/completions` "
        "itself and never adds `/v1`).",
        "- **API key**: sent as `Authorization: Bearer <key>` (the SDK does this).",
        "- **Models**: " + ", ".join(f"{cap} `{name}`" for cap, name in sorted(models.items())) + ".",
    ]
    for feature_id in CONFIGURE_NOTES:
        for note in (results["features"].get(feature_id) or {}).get("notes") or ():
            lines.append(f"- {cell(note, 300)}")
    lines += [
        "",
        "```python",
        "from openai import OpenAI",
        "",
        f'client = OpenAI(base_url="{target["base_url"]}", api_key="YOUR_KEY")',
        f'reply = client.chat.completions.create(model="{chat}", messages=[{{"role": "user", "content": "Hello"}}])',
        "```",
        "",
    ]
    return lines


def render_step_summary(results: dict[str, Any]) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: the verdict, the gate, and what did not pass."""
    target = results["target"]
    gate = results.get("gate") or {}
    lines = [
        f"### openai-conformance: {cell(target.get('name') or target['base_url'], 80)}",
        "",
        f"{verdict_line(results)} · openai {results['sdk']['version']} · {results['requests']} requests",
        "",
        *([f"{line}.", ""] if (line := reading_line(results)) else []),
        *([f"{score}.", ""] if (score := open_responses_line(results)) else []),
        f"**CI gate: {'passes' if gate.get('passes', True) else 'fails'}** ({gate_reading(results).value} reading)",
        "",
    ]
    lines += [f"- {cell(reason, 200)}" for reason in gate.get("failures") or ()]
    failing = [(f, v) for f, v in results["features"].items() if v["status"] not in ("supported", "skipped")]
    if failing:
        lines += ["", "| Feature | Verdict | Reason |", "|---|---|---|"]
        lines += [f"| `{f}` | {SYMBOLS[v['status']]} | {cell(v['reason'], 200)} |" for f, v in failing]
    return "\n".join(lines) + "\n"
