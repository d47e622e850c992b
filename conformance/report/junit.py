"""``junit.xml``: one test case per feature, so CI systems show the run natively. Decides nothing:
failure, error and skip map the disposition ``conformance.policy`` recorded for each feature, in the
reading the gate judged (a strict gate's failure lists what OpenAI's published schemas found)."""

from __future__ import annotations

import json
from typing import Any

from junit_xml import TestCase, TestSuite, to_xml_report_string

from conformance.policy import (
    Disposition,
    Reading,
    Selection,
    certification_of,
    gate_of,
    gate_reading,
    judgement_of,
    reading_status,
)
from conformance.report.markdown import strict_problems


def _evidence_summary(feature: dict[str, Any], reading: Reading) -> str:
    lines = [f"{p['oracle']}: {p['message']}" for p in feature.get("problems") or []]
    if reading is Reading.STRICT:
        lines += [f"strict: {message}" for message in strict_problems(feature)]
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
    """One test case per feature; its outcome maps the policy's disposition (``conformance.policy``)."""
    cases = []
    reading = gate_reading(results)
    for feature_id, feature in results["features"].items():
        case = TestCase(
            name=feature_id,
            classname=feature.get("area") or feature_id.split(".")[0],
            elapsed_sec=feature.get("duration_s", 0.0),
        )
        judgement = judgement_of(feature)
        message = f"{judgement.why}: {feature['reason']}"
        if judgement.disposition is Disposition.FAIL:
            case.add_failure_info(
                message=message,
                output=_evidence_summary(feature, reading),
                failure_type=reading_status(feature, reading).value,
            )
        elif judgement.disposition is Disposition.ERROR:
            case.add_error_info(message=message.splitlines()[0], output=feature["reason"], error_type="harness")
        elif judgement.disposition is Disposition.EXPECTED_FAIL:
            # JUnit has no expected failure: a skip that says so, as pytest's own junitxml writes an xfail
            case.add_skipped_info(message=f"expected failure: {message}")
        elif judgement.disposition is Disposition.SKIP:
            case.add_skipped_info(message=message)
        cases.append(case)
    target = results["target"]
    suite = TestSuite(
        "openai-conformance",
        cases,
        properties={
            "base_url": target["base_url"],
            "sdk": f"openai {results['sdk']['version']}",
            "certified": str(results.get("certified")).lower(),
            "gate": "passes" if gate_of(results).passes else "fails",
            "reading": reading.value,
            "certification": certification_of(results).value,
            **({"selection": partial.describe()} if (partial := Selection.of(results)) and partial.partial else {}),
        },
        timestamp=results["started_at"],
    )
    return to_xml_report_string([suite], prettyprint=True, encoding="utf-8")
