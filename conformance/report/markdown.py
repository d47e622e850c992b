"""``matrix.md``: the run as a readable page, one table per area. A pure function of results.json."""

from __future__ import annotations

from typing import Any

from conformance.policy import Reading, Selection, certification_of, gate_reading, judgement_of, reading_status

SYMBOLS = {
    "supported": "✅ supported",
    "unsupported": "⛔ unsupported",
    "nonconformant": "❌ nonconformant",
    "skipped": "⏭️ skipped",
    "error": "⚠️ error",
}
LEGEND = (
    "✅ **supported**: works as the contract says, by every oracle that applies · "
    "⛔ **unsupported**: declined honestly (4xx in OpenAI's error envelope) · "
    "❌ **nonconformant**: anything else (wrong shape, wrong status, malformed stream, silently ignored) · "
    "⏭️ **skipped**: not applicable (no model for it, not selected, or not decidable) · "
    "⚠️ **error**: the harness could not decide · "
    "**Strict**: the strict reading, the same verdicts also held to OpenAI's published schemas "
    "(keys they require, even when null)"
)


def cell(text: Any, limit: int = 240) -> str:
    """Make text safe for one Markdown table cell: one line, at most ``limit`` characters, its pipes
    escaped (GitHub splits cells before it reads code spans) and no HTML in it (:func:`literal`)."""
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return literal(value).replace("|", "\\|")


def literal(text: str) -> str:
    """Text that GitHub renders as written: outside code spans, ``<`` and ``&`` become entities (``Bearer
    <key>`` would otherwise be read as an HTML tag and dropped) and backslashes are doubled (so none
    escapes what follows it); code spans, which show their content verbatim, are kept as they are.
    Code spans are found as CommonMark finds them: a run of backticks closed by a run of the same length."""
    parts: list[str] = []
    plain = index = 0
    while index < len(text):
        if text[index] != "`":
            index += 1
            continue
        end = index
        while end < len(text) and text[end] == "`":
            end += 1
        close = _closing_run(text, end, end - index)
        if close is None:  # no closing run: the backticks are literal
            index = end
            continue
        parts += [_escape_plain(text[plain:index]), text[index:close]]
        plain = index = close
    parts.append(_escape_plain(text[plain:]))
    return "".join(parts)


def _closing_run(text: str, start: int, length: int) -> int | None:
    """Where the run of exactly ``length`` backticks at or after ``start`` ends, or None."""
    index = start
    while index < len(text):
        if text[index] != "`":
            index += 1
            continue
        end = index
        while end < len(text) and text[end] == "`":
            end += 1
        if end - index == length:
            return end
        index = end
    return None


def _escape_plain(text: str) -> str:
    return text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;")


def verdict_line(results: dict[str, Any]) -> str:
    """Certification and the counts, both in the reading the gate judged."""
    reading = (results.get("readings") or {}).get(gate_reading(results).value) or {}
    summary = reading.get("summary") or results["summary"]
    counts = ", ".join(f"{summary[s]} {s}" for s in SYMBOLS)
    state = f"**{certification_of(results).value}**"
    selection = Selection.of(results)
    if selection is not None and selection.partial:  # "partial: 5 of 85 features", never certified
        state = f"**{selection.describe()}**, not certified"
    return f"{state}: {counts}"


def open_responses_line(results: dict[str, Any]) -> str | None:
    """The line "Open Responses compliance: N/M" and the tests that fail, from the score results.json
    carries; None when the run decided none of its tests."""
    score = results.get("open_responses") or {}
    if not score.get("decided"):
        return None
    failed = [test["id"] for test in score["tests"] if test["state"] == "failed"]
    line = f"Open Responses compliance: **{score['passed']}/{score['applicable']}**"
    if len(failed) > 4:
        failed = [*failed[:3], f"{len(failed) - 3} more"]
    return line + (f" (fails: {', '.join(failed)})" if failed else "")


def has_strict_reading(results: dict[str, Any]) -> bool:
    """Whether the document was judged in the strict reading too (documents older than readings were not)."""
    return "strict" in (results.get("readings") or {})


def beyond_compatible(results: dict[str, Any]) -> list[str]:
    """The features the strict reading judges worse than the compatible one."""
    return [
        feature_id
        for feature_id, feature in results["features"].items()
        if reading_status(feature, Reading.STRICT) != reading_status(feature, Reading.COMPATIBLE)
    ]


def strict_oracle_name(results: dict[str, Any]) -> str:
    oracle = ((results.get("readings") or {}).get("strict") or {}).get("oracle") or {}
    version = f", spec {oracle['version']}" if oracle.get("version") else ""
    return f"OpenAI's published schemas{version}"


def reading_line(results: dict[str, Any]) -> str | None:
    """Which reading the verdict, the gate and the badge show, and what the other one adds; None for a
    document older than readings."""
    if not has_strict_reading(results):
        return None
    more = len(beyond_compatible(results))
    findings = f"{more} more finding{'s' if more != 1 else ''}" if more else "no more findings"
    if gate_reading(results) is Reading.STRICT:
        return (
            f"Reading: **strict** (what the pinned SDK needs, and {strict_oracle_name(results)}); "
            f"{findings} than the compatible reading"
        )
    return (
        "Reading: **compatible** (what the pinned SDK and common clients need); "
        f"strict ({strict_oracle_name(results)}): {findings}"
    )


def strict_cell(feature: dict[str, Any]) -> str:
    """The feature's verdict in the strict reading ("—" when it was not judged there)."""
    strict = (feature.get("readings") or {}).get("strict") or {}
    return SYMBOLS[strict["status"]] if strict.get("status") else "—"


def strict_problems(feature: dict[str, Any]) -> list[str]:
    """What OpenAI's published schemas found in the feature's evidence."""
    strict = (feature.get("readings") or {}).get("strict") or {}
    return [str(problem["message"]) for problem in strict.get("problems") or ()]


def features_by_area(results: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, dict[str, Any]]]]]:
    """(area id, area title, features) in matrix order: the catalog's areas first, then the others by name."""
    areas: dict[str, str] = results.get("areas") or {}
    by_area: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for feature_id, feature in results["features"].items():
        by_area.setdefault(feature.get("area") or feature_id.split(".")[0], []).append((feature_id, feature))
    order = [a for a in areas if a in by_area] + sorted(a for a in by_area if a not in areas)
    return [(area, areas.get(area, area.title()), by_area[area]) for area in order]


def render_matrix(results: dict[str, Any]) -> str:
    target = results["target"]
    models = ", ".join(f"{capability} `{name}`" for capability, name in sorted(target["models"].items()))
    where = " (embedded reference mock)" if target.get("embedded_mock") else ""
    title = target.get("name") or target["base_url"]
    lines = [
        f"# OpenAI compatibility matrix: {literal(title)}",
        "",
        f"- Target: `{target['base_url']}`{where}",
        f"- Models: {models}",
        f"- SDK: {results['sdk']['package']} {results['sdk']['version']} · "
        f"{results['tool']['name']} {results['tool']['version']}",
        f"- Run: {results['started_at']}, {results['duration_s']} s, {results['requests']} requests, "
        f"{results['completion_tokens_requested']} completion tokens requested",
        f"- Result: {verdict_line(results)}",
    ]
    line = reading_line(results)
    if line:
        lines.append(f"- {line}")
    score = open_responses_line(results)
    if score:
        lines.append(f"- {score}")
    backoffs = (results.get("politeness") or {}).get("backoffs") or []
    if backoffs:
        lines.append(f"- Rate limits: backed off {len(backoffs)} time(s) on 429, honouring Retry-After")
    security = results.get("security_findings") or []
    if security:
        lines.append(f"- Security: {len(security)} finding(s), listed below; they are not compatibility verdicts")
    lines += ["", LEGEND, ""]
    if security:
        lines += ["## Security findings", ""]
        lines += [f"- `{item['feature']}`: {cell(item['finding'])}" for item in security]
        lines.append("")

    lines += causes_section(results)
    lines += claims_section(results)
    strict_only = set(beyond_compatible(results))
    for _, title, features in features_by_area(results):
        lines += [
            f"## {title}",
            "",
            "| Feature | Level | Verdict | Strict | Reason |",
            "|---|---|---|---|---|",
        ]
        for feature_id, feature in features:
            reason = feature["reason"]
            notes = feature.get("notes") or []
            if notes:
                reason += " — note: " + "; ".join(notes)
            if feature_id in strict_only:
                reason += " — strict: " + "; ".join(strict_problems(feature)[:2])
            if feature.get("cause"):
                reason += f" — root cause: {feature['cause']}"
            lines.append(
                f"| `{feature_id}` {cell(feature['title'], 80)} | {feature['level']} | "
                f"{SYMBOLS[feature['status']]} | {strict_cell(feature)} | {cell(reason)} |"
            )
        lines.append("")
    guides = _troubleshooting(results["features"])
    if guides:
        lines += ["## Troubleshooting", ""]
        for (symptom, fix), feature_ids in guides.items():
            named = ", ".join(f"`{f}`" for f in feature_ids)
            lines += [f"- **{cell(symptom)}** ({named}) {cell(fix)}"]
        lines.append("")
    return "\n".join(lines)


def _troubleshooting(features: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """Each troubleshooting entry of the failed features, once, with the features it explains."""
    guides: dict[tuple[str, str], list[str]] = {}
    for feature_id, feature in features.items():
        for guide in feature.get("troubleshooting") or ():
            guides.setdefault((guide["symptom"], guide["fix"]), []).append(feature_id)
    return guides


def causes_section(results: dict[str, Any]) -> list[str]:
    """The server behaviours behind several failures, each named once with the features it explains."""
    causes = results.get("causes") or []
    if not causes:
        return []
    lines = [
        "## Root causes",
        "",
        "One server behaviour can fail several features; each is named once here, and each feature's own",
        "reason says what it needed.",
        "",
        "| Cause | What the server did | Features |",
        "|---|---|---|",
    ]
    for cause in causes:
        named = ", ".join(f"`{feature_id}`" for feature_id in cause["features"])
        lines.append(f"| {cause['id']} | {cell(cause['summary'], 200)} | {named} |")
    return lines + [""]


def claims_section(results: dict[str, Any]) -> list[str]:
    """Where the vendor's claims and the run disagree, and the known failures with their state."""
    features = results["features"]
    disagreements = (results.get("claims") or {}).get("disagreements") or []
    known = [(f, v["known_failing"]) for f, v in features.items() if v.get("known_failing")]
    lines: list[str] = []
    if disagreements:
        lines += [
            "## Where the vendor's claims and this run disagree",
            "",
            "| Feature | Claim | Run |",
            "|---|---|---|",
        ]
        for feature_id in disagreements:
            feature = features[feature_id]
            claimed = feature["claim"]["claimed"]
            lines.append(
                f"| `{feature_id}` | {claimed} | {judgement_of(feature).why}: {cell(feature['reason'], 200)} |"
            )
        lines.append("")
    if known:
        lines += ["## Known failures", "", "| Feature | Reason | State |", "|---|---|---|"]
        for feature_id, entry in known:
            expires = f" (until {entry['expires']})" if entry.get("expires") else ""
            lines.append(f"| `{feature_id}` | {cell(entry['reason'], 200)}{expires} | {entry['state']} |")
        lines.append("")
    return lines
