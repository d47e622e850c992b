"""The summary table printed at the end of a run (a pure function of results.json; the gate and
certification it prints are the policy's, as recorded)."""

from __future__ import annotations

from typing import Any

from conformance.policy import Reading, gate_of, gate_reading
from conformance.report.markdown import beyond_compatible, has_strict_reading, strict_problems

MARK = {"supported": "ok", "unsupported": "UNSUPPORTED", "nonconformant": "FAIL", "skipped": "skip", "error": "ERROR"}


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def render_summary(results: dict[str, Any], *, width: int = 120, files: list[str] | None = None) -> str:
    features = results["features"]
    id_width = max((len(f) for f in features), default=10)
    verdict_width = max(len(v) for v in MARK.values())
    reason_width = max(width - id_width - verdict_width - 4, 30)
    lines = [
        f"{'feature'.ljust(id_width)}  {'verdict'.ljust(verdict_width)}  reason",
        f"{'-' * id_width}  {'-' * verdict_width}  {'-' * min(reason_width, 40)}",
    ]
    for feature_id, feature in features.items():
        reason = feature["reason"].splitlines()[0] if feature["reason"] else ""
        lines.append(
            f"{feature_id.ljust(id_width)}  {MARK[feature['status']].ljust(verdict_width)}  "
            f"{_clip(reason, reason_width)}"
        )
    summary = results["summary"]
    lines += [
        "",
        "  ".join(f"{name}: {summary[name]}" for name in MARK),
        f"{results['requests']} requests, {results['completion_tokens_requested']} completion tokens requested, "
        f"{results['duration_s']} s · openai {results['sdk']['version']} · target {results['target']['base_url']}",
    ]
    backoffs = (results.get("politeness") or {}).get("backoffs") or []
    if backoffs:
        lines.append(f"rate limited: backed off {len(backoffs)} time(s), honouring Retry-After")
    for item in results.get("security_findings") or []:
        lines.append(f"security: {item['finding']} ({item['feature']})")
    reading = gate_reading(results)
    if has_strict_reading(results):
        stricter = beyond_compatible(results)
        lines.append(
            f"strict reading (OpenAI's published schemas): {len(stricter)} more finding(s)"
            + (" (the gate's reading)" if reading is Reading.STRICT else ", not gating")
        )
        for feature_id in stricter[:5]:
            first = (strict_problems(results["features"][feature_id]) or [""])[0]
            lines.append(f"  {feature_id}: {_clip(first, width - len(feature_id) - 4)}")
        if len(stricter) > 5:
            lines.append(f"  ... and {len(stricter) - 5} more (matrix.md, report.html)")
    causes = results.get("causes") or []
    if causes:
        explained = sum(len(cause["features"]) for cause in causes)
        lines.append(f"root causes: {len(causes)} server behaviour(s) explain {explained} failing feature(s)")
        for cause in causes:
            lines.append(f"  {cause['id']} ({len(cause['features'])}): {_clip(cause['summary'], width - 16)}")
    gate = gate_of(results)
    if not gate.passes:
        lines.append(f"CI gate ({reading.value} reading) fails ({len(gate.failures)}):")
        lines += [f"  {_clip(failure, width - 2)}" for failure in gate.failures]
    lines.append(("CERTIFIED" if gate.certified else "NOT CERTIFIED") + f" ({reading.value} reading)")
    if files:
        lines.append("wrote " + ", ".join(files))
    return "\n".join(lines)
