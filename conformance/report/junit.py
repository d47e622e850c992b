"""``junit.xml``: one test case per feature, so CI systems show the run natively."""

from __future__ import annotations

import json
from typing import Any

from junit_xml import TestCase, TestSuite, to_xml_report_string


def _evidence_summary(feature: dict[str, Any]) -> str:
    lines = [f"{p['oracle']}: {p['message']}" for p in feature.get("problems") or []]
    for exchange in feature.get("evidence", [])[:3]:
        request, response = exchange["request"], exchange.get("response") or {}
        line = (
            f"{request['method']} {request['url']} -> {response.get('status', exchange.get('failure', {}).get('kind'))}"
        )
        body = response.get("body", response.get("body_text"))
        if body is not None:
            text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
            line += f" {text[:300]}"
        lines.append(line)
    return "\n".join(lines)


def render_junit(results: dict[str, Any]) -> str:
    cases = []
    for feature_id, feature in results["features"].items():
        case = TestCase(
            name=feature_id,
            classname=feature.get("area") or feature_id.split(".")[0],
            elapsed_sec=feature.get("duration_s", 0.0),
        )
        status, reason = feature["status"], feature["reason"]
        if status == "nonconformant":
            case.add_failure_info(message=reason, output=_evidence_summary(feature), failure_type="nonconformant")
        elif status == "unsupported":
            if feature["level"] == "required":
                case.add_failure_info(
                    message=f"required feature unsupported: {reason}",
                    output=_evidence_summary(feature),
                    failure_type="unsupported",
                )
            else:
                case.add_skipped_info(message=f"unsupported: {reason}")
        elif status == "skipped":
            case.add_skipped_info(message=reason)
        elif status == "error":
            case.add_error_info(
                message=reason.splitlines()[0] if reason else "error", output=reason, error_type="harness"
            )
        cases.append(case)
    target = results["target"]
    suite = TestSuite(
        "openai-conformance",
        cases,
        properties={
            "base_url": target["base_url"],
            "sdk": f"openai {results['sdk']['version']}",
            "certified": str(results.get("certified")).lower(),
        },
        timestamp=results["started_at"],
    )
    return to_xml_report_string([suite], prettyprint=True, encoding="utf-8")
