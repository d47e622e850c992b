"""GET /models and GET /models/{id}."""

from __future__ import annotations

from conformance import schemas
from conformance.checks._common import UNKNOWN_MODEL, error_body_of, judge_error, strict_sdk_json
from conformance.context import CheckContext
from conformance.registry import check
from conformance.verdict import Findings, Oracle, Outcome


@check("models.list")
def models_list(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body, _ = strict_sdk_json(ctx, lambda: ctx.sdk(strict=True).models.with_raw_response.list(), findings)
    findings.extend(Oracle.SCHEMA, schemas.validate(body, "ModelList"))
    entries = body["data"] if isinstance(body, dict) and isinstance(body.get("data"), list) else []
    findings.extension("Model", sorted({p for entry in entries for p in schemas.extension_fields(entry, "Model")}))
    return findings.verdict(f"lists {len(entries)} models in OpenAI's list shape", Oracle.SCHEMA)


@check("models.list.includes_configured")
def models_list_includes_configured(ctx: CheckContext) -> Outcome:
    response = ctx.require_ok(ctx.wire.get("models"))
    body = response.json_or_none()
    # Read ids leniently: the list's shape is models.list's business, its content is ours.
    entries = body.get("data") if isinstance(body, dict) else body
    ids = {e.get("id") for e in entries if isinstance(e, dict)} if isinstance(entries, list) else set()
    findings = Findings()
    # the rate-limited model is a probe for 429s (often an alias or a throttled key), not a model to offer
    served = {c: m for c, m in ctx.target.models.items() if c != "rate_limited"}
    for capability, model in sorted(served.items()):
        findings.expect(
            model in ids,
            Oracle.BEHAVIOUR,
            f"the configured {capability} model {model!r} is not in GET /models ({len(ids)} ids listed)",
        )
    return findings.verdict(
        f"every configured model is listed ({', '.join(sorted(set(served.values())))})", Oracle.BEHAVIOUR
    )


@check("models.retrieve")
def models_retrieve(ctx: CheckContext) -> Outcome:
    findings = Findings()
    model = ctx.chat_model
    body, parsed = strict_sdk_json(ctx, lambda: ctx.sdk(strict=True).models.with_raw_response.retrieve(model), findings)
    findings.extend(Oracle.SCHEMA, schemas.validate(body, "Model"))
    if isinstance(body, dict):
        findings.expect(
            body.get("id") == model,
            Oracle.BEHAVIOUR,
            f"id: received {body.get('id')!r}, expected the requested {model!r}",
        )
    return findings.verdict(f"GET /models/{model} returns the model object", Oracle.SCHEMA)


@check("models.retrieve.unknown")
def models_retrieve_unknown(ctx: CheckContext) -> Outcome:
    findings = Findings()
    response = ctx.wire.get(f"models/{UNKNOWN_MODEL}")
    judge_error(findings, error_body_of(response), status=404, what=f"GET /models/{UNKNOWN_MODEL}")
    return findings.verdict("an unknown model id gives 404 in the OpenAI envelope (NotFoundError)", Oracle.WIRE)
