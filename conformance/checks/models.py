"""GET /models and GET /models/{id}."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from conformance.checks._common import UNKNOWN_MODEL, compact, strict_sdk_json
from conformance.checks._judges import error_body_of, judge_error
from conformance.context import CheckContext, StatusError
from conformance.registry import check
from conformance.sdk import oracle
from conformance.verdict import Findings, Oracle, Outcome, skipped


@check("models.list")
def models_list(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body, _ = strict_sdk_json(ctx, lambda: ctx.sdk(strict=True).models.with_raw_response.list(), findings)
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "ModelList"))
    entries = body["data"] if isinstance(body, dict) and isinstance(body.get("data"), list) else []
    findings.extension("Model", sorted({p for entry in entries for p in oracle.extension_fields(entry, "Model")}))
    return findings.outcome(f"lists {len(entries)} models in OpenAI's list shape", Oracle.SCHEMA)


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
    return findings.outcome(
        f"every configured model is listed ({', '.join(sorted(set(served.values())))})", Oracle.BEHAVIOUR
    )


@check("models.retrieve")
def models_retrieve(ctx: CheckContext) -> Outcome:
    findings = Findings()
    model = ctx.chat_model
    body, parsed = strict_sdk_json(ctx, lambda: ctx.sdk(strict=True).models.with_raw_response.retrieve(model), findings)
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "Model"))
    if isinstance(body, dict):
        findings.expect(
            body.get("id") == model,
            Oracle.BEHAVIOUR,
            f"id: received {body.get('id')!r}, expected the requested {model!r}",
        )
    return findings.outcome(f"GET /models/{model} returns the model object", Oracle.SCHEMA)


@check("models.retrieve.unknown")
def models_retrieve_unknown(ctx: CheckContext) -> Outcome:
    findings = Findings()
    response = ctx.wire.get(f"models/{UNKNOWN_MODEL}")
    judge_error(findings, error_body_of(response), status=404, what=f"GET /models/{UNKNOWN_MODEL}")
    return findings.outcome("an unknown model id gives 404 in the OpenAI envelope (NotFoundError)", Oracle.WIRE)


# How each SDK line puts a model id with a slash into /models/{id} (docs/sdk-facts.md#path-parameters):
# a server has users on both, so both forms must resolve, whichever SDK this run has installed.
SLASH_ID_FORMS = {"3.x SDK": lambda model: quote(model, safe=""), "1.x SDK": lambda model: model}


@check("models.retrieve.slash_id")
def models_retrieve_slash_id(ctx: CheckContext) -> Outcome:
    configured = [m for m in ctx.target.models.values() if "/" in m]
    candidates = configured or _listed_ids_with_slash(ctx)
    findings = Findings()
    if not candidates:
        return skipped("no model id with a slash is configured or listed, so there is nothing to retrieve")
    model = candidates[0]
    before = len(ctx.observed.exchanges_so_far)  # the listing above, when the id came from GET /models
    try:
        retrieved = ctx.call_sdk(lambda: ctx.sdk(strict=False).models.retrieve(model))
    except StatusError as error:
        if error.body.status != 404 or not _plain_id_retrievable(ctx):
            raise  # a 404 for every id is models.retrieve's honest "not implemented"; let the engine judge
        retrieved = None
    sent = ctx.observed.exchanges_so_far[before:]
    # the path the SDK sent the id in: that form needs no second request
    sent_path = urlsplit(sent[0].url).path if sent else ""
    if retrieved is not None:
        findings.expect(
            getattr(retrieved, "id", None) == model,
            Oracle.BEHAVIOUR,
            f"retrieving {model!r} returned id {compact(getattr(retrieved, 'id', None))}",
        )
    for line, form in SLASH_ID_FORMS.items():
        path = f"models/{form(model)}"
        if sent_path.endswith("/" + path):
            ok = retrieved is not None
        else:
            ok = ctx.wire.get(path).status == 200
        findings.expect(
            ok,
            Oracle.BEHAVIOUR,
            f"{model!r} is not found at /{path} (as the {line} sends it) although plain ids resolve",
        )
    return findings.outcome(
        f"{model!r} resolves both as the 3.x SDK sends it (%2F) and as 1.x does (raw /)", Oracle.BEHAVIOUR
    )


def _plain_id_retrievable(ctx: CheckContext) -> bool:
    return ctx.wire.get(f"models/{ctx.chat_model}").status == 200


def _listed_ids_with_slash(ctx: CheckContext) -> list[str]:
    body: Any = ctx.wire.get("models").json_or_none()
    entries = body.get("data") if isinstance(body, dict) else body
    return [e["id"] for e in entries or () if isinstance(e, dict) and isinstance(e.get("id"), str) and "/" in e["id"]]
