"""``matrix.md``: the run as a readable page, one table per area. A pure function of results.json."""

from __future__ import annotations

from typing import Any

from conformance.policy import judgement_of

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
    "⚠️ **error**: the harness could not decide"
)


def cell(text: Any, limit: int = 240) -> str:
    """Make text safe for one Markdown table cell."""
    value = " ".join(str(text).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value.replace("|", "\\|")


def verdict_line(results: dict[str, Any]) -> str:
    summary = results["summary"]
    counts = ", ".join(f"{summary[s]} {s}" for s in SYMBOLS)
    state = "**certified**" if results.get("certified") else "**not certified**"
    return f"{state}: {counts}"


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
        f"# OpenAI compatibility matrix: {title}",
        "",
        f"- Target: `{target['base_url']}`{where}",
        f"- Models: {models}",
        f"- SDK: {results['sdk']['package']} {results['sdk']['version']} · "
        f"{results['tool']['name']} {results['tool']['version']}",
        f"- Run: {results['started_at']}, {results['duration_s']} s, {results['requests']} requests, "
        f"{results['completion_tokens_requested']} completion tokens requested",
        f"- Result: {verdict_line(results)}",
    ]
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

    lines += claims_section(results)
    for _, title, features in features_by_area(results):
        lines += [
            f"## {title}",
            "",
            "| Feature | Level | Verdict | Reason |",
            "|---|---|---|---|",
        ]
        for feature_id, feature in features:
            reason = feature["reason"]
            notes = feature.get("notes") or []
            if notes:
                reason += " — note: " + "; ".join(notes)
            lines.append(
                f"| `{feature_id}` {cell(feature['title'], 80)} | {feature['level']} | "
                f"{SYMBOLS[feature['status']]} | {cell(reason)} |"
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
