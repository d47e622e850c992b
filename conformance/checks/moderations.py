"""POST /moderations: the result object, and a batch of inputs answered one result each, in order.

What a moderation model scores is its own; the server controls the shape (``id``, ``model``,
``results[]`` with ``flagged``, ``categories`` and ``category_scores``), that every category has a
score in [0, 1] and ``flagged`` agrees with the categories, and that N inputs get N results in
their order. A server without the endpoint answers 404 in the envelope (``unsupported``).
"""

from __future__ import annotations

import json
import math
from typing import Any

from conformance.checks._common import compact, json_object, strict_sdk_json
from conformance.checks._requests import MODERATION_SAMPLE, moderation_single
from conformance.context import CheckContext
from conformance.registry import check
from conformance.sdk import oracle
from conformance.verdict import Findings, Oracle, Outcome

# MODERATION_SAMPLE in the middle: where its own result must come back
BATCH = ["The weather is mild and sunny today.", MODERATION_SAMPLE, "Please pass the salt and the pepper."]


def result_problems(result: Any, where: str) -> list[str]:
    """One moderation result: categories and scores agree, each score is in [0, 1], and ``flagged``
    says whether any category is flagged."""
    if not isinstance(result, dict):
        return [f"{where}: received {compact(result, 60)}, expected a moderation result object"]
    categories, scores, flagged = result.get("categories"), result.get("category_scores"), result.get("flagged")
    problems = []
    if not isinstance(categories, dict) or not all(isinstance(v, bool) for v in categories.values()):
        problems.append(f"{where}.categories: received {compact(categories, 80)}, expected category -> boolean")
        categories = {}
    if not isinstance(scores, dict):
        problems.append(f"{where}.category_scores: received {compact(scores, 80)}, expected category -> score")
        scores = {}
    unscored = sorted(set(categories) - set(scores))
    if unscored:
        problems.append(f"{where}: categories without a score: {unscored[:6]}")
    uncategorised = sorted(set(scores) - set(categories))
    if uncategorised:
        problems.append(f"{where}: scores for categories it does not report: {uncategorised[:6]}")
    bad = {
        name: value
        for name, value in scores.items()
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1)
        or (isinstance(value, float) and math.isnan(value))
    }
    if bad:
        problems.append(f"{where}.category_scores: outside [0, 1]: {compact(bad, 80)}")
    if not isinstance(flagged, bool):
        problems.append(f"{where}.flagged: received {flagged!r}, expected a boolean")
    elif flagged != any(categories.values()):
        named = sorted(name for name, value in categories.items() if value)
        problems.append(f"{where}.flagged is {flagged}, but the categories flagged are {named}")
    return problems


@check("moderations.shape")
def shape(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body, _ = strict_sdk_json(ctx, lambda: moderation_single(ctx), findings)
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "ModerationCreateResponse"))
    if not isinstance(body, dict):
        return findings.fail()
    for key in ("id", "model"):
        findings.expect(
            isinstance(body.get(key), str) and body[key] != "",
            Oracle.SCHEMA,
            f"{key}: received {compact(body.get(key), 40)}, expected a string",
        )
    results = body.get("results")
    if not isinstance(results, list) or len(results) != 1:
        findings.add(Oracle.BEHAVIOUR, f"results: received {compact(results, 80)}, expected one result for one input")
        return findings.fail()
    findings.extend(Oracle.BEHAVIOUR, result_problems(results[0], "results[0]"))
    categories = results[0].get("categories") if isinstance(results[0], dict) else None
    count = len(categories) if isinstance(categories, dict) else 0
    return findings.outcome(f"one result, {count} categories each scored in [0, 1]", Oracle.BEHAVIOUR)


def _scores(result: Any) -> dict[str, Any] | None:
    scores = result.get("category_scores") if isinstance(result, dict) else None
    return scores if isinstance(scores, dict) and scores else None


@check("moderations.batch")
def batch(ctx: CheckContext) -> Outcome:
    findings = Findings()
    alone = _scores((_json_of(moderation_single(ctx)).get("results") or [None])[0])
    body = {"model": ctx.target.models["moderation"], "input": BATCH}
    answer = json_object(ctx.require_ok(ctx.wire.post("moderations", body), decline_param="input"))
    results = answer.get("results")
    if not isinstance(results, list) or len(results) != len(BATCH):
        count = len(results) if isinstance(results, list) else compact(results, 60)
        findings.add(Oracle.BEHAVIOUR, f"results: {count} for {len(BATCH)} inputs, expected one result per input")
        return findings.fail()
    for index, result in enumerate(results):
        findings.extend(Oracle.BEHAVIOUR, result_problems(result, f"results[{index}]"))
    # the order: the sample's own scores (moderation models score a text the same each time) must
    # come back where it was sent; where they match no result, or several, the order cannot be told
    matching = [index for index, result in enumerate(results) if alone is not None and _scores(result) == alone]
    if len(matching) == 1:
        findings.expect(
            matching == [1],
            Oracle.BEHAVIOUR,
            f"the result of input 1 (scored alone) came back at index {matching[0]}: results out of input order",
        )
    else:
        findings.note("the sample's scores alone match no single result of the batch: its order was not checked")
    return findings.outcome(f"{len(BATCH)} inputs, {len(BATCH)} results in input order", Oracle.BEHAVIOUR)


def _json_of(raw: Any) -> dict[str, Any]:
    """The JSON object of an SDK raw response (empty when it is not one: moderations.shape says why)."""
    try:
        value = json.loads(raw.http_response.content)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
