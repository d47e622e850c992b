"""POST /embeddings: shape, the SDK's default base64 encoding, batches, dimensions, the input forms."""

from __future__ import annotations

import json
import math

from conformance.checks._common import EMBEDDING_SAMPLE, compact, json_object, strict_sdk_json
from conformance.checks._judges import error_body_of, judge_error
from conformance.checks._requests import float_embedding
from conformance.context import CheckContext, StatusError
from conformance.envelope import param_names
from conformance.floats import decode_base64
from conformance.registry import check
from conformance.sdk import oracle
from conformance.verdict import Findings, Oracle, Outcome, StopCheck, nonconformant, skipped

BATCH = [EMBEDDING_SAMPLE, "Bright stars above the hills.", "A quiet river in the valley."]


def _reference_vector(ctx: CheckContext) -> list[float] | None:
    try:
        body = json.loads(float_embedding(ctx).http_response.content)
        vector = body["data"][0]["embedding"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return vector if isinstance(vector, list) and all(isinstance(v, (int, float)) for v in vector) else None


def _native_size(ctx: CheckContext) -> int | None:
    """The model's own vector size, from embeddings.basic's float answer (shared: no extra request).

    None when that answer holds no float vector; when it was an error, the error escapes (the
    endpoint declined or broke, and the engine judges that as for embeddings.basic)."""
    try:
        vector = _reference_vector(ctx)
    except StopCheck:
        return None
    return len(vector) if vector is not None else None


def _serves_embeddings(ctx: CheckContext) -> bool:
    try:
        return _native_size(ctx) is not None
    except StatusError:
        return False


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


@check("embeddings.basic")
def embeddings_basic(ctx: CheckContext) -> Outcome:
    findings = Findings()
    body, _ = strict_sdk_json(ctx, lambda: float_embedding(ctx), findings)
    findings.extend(Oracle.SCHEMA, oracle.validate(body, "CreateEmbeddingResponse"))
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, list):
        findings.expect(len(data) == 1, Oracle.BEHAVIOUR, f"data: received {len(data)} items for one input, expected 1")
        vector = data[0].get("embedding") if data and isinstance(data[0], dict) else None
        findings.expect(
            isinstance(vector, list) and len(vector) > 0,
            Oracle.BEHAVIOUR,
            "data[0].embedding: expected a non-empty list of floats for encoding_format 'float'",
        )
    size = len(data[0]["embedding"]) if findings.ok and data else 0
    return findings.outcome(
        f"one {size}-dimensional embedding in the SDK's CreateEmbeddingResponse shape", Oracle.SCHEMA
    )


@check("embeddings.base64")
def embeddings_base64(ctx: CheckContext) -> Outcome:
    findings = Findings()
    response = ctx.require_ok(
        ctx.wire.post(
            "embeddings", {"model": ctx.embedding_model, "input": EMBEDDING_SAMPLE, "encoding_format": "base64"}
        ),
        decline_param="encoding_format",
    )
    body = json_object(response)
    item = (body.get("data") or [{}])[0] if isinstance(body.get("data"), list) else {}
    encoded = item.get("embedding") if isinstance(item, dict) else None
    if not isinstance(encoded, str):
        findings.add(
            Oracle.BEHAVIOUR,
            f"encoding_format 'base64' answered with a {type(encoded).__name__}, "
            "expected a base64 string of little-endian float32 values",
        )
        return findings.fail()
    try:
        decoded = decode_base64(encoded)
    except ValueError as exc:
        raise StopCheck(nonconformant(f"data[0].embedding is not base64 float32: {exc}", Oracle.BEHAVIOUR)) from None
    reference = _reference_vector(ctx)
    if reference is not None:
        findings.expect(
            len(decoded) == len(reference),
            Oracle.BEHAVIOUR,
            f"base64 decodes to {len(decoded)} values, the float answer has {len(reference)}",
        )
        if len(decoded) == len(reference):
            similarity = cosine(decoded, reference)
            findings.expect(
                similarity > 0.999,
                Oracle.BEHAVIOUR,
                f"the base64 vector differs from the float vector (cosine {similarity:.4f})",
            )
    # The SDK's default call sends base64 and decodes it: what every user's plain call does. It is
    # judged in lax mode because strict mode validates the base64 string as a list before decoding
    # it, and fails on every server (an SDK limitation, docs/sdk-facts.md#strict-validation).
    result = ctx.call_sdk(
        lambda: ctx.sdk(strict=False).embeddings.create(model=ctx.embedding_model, input=EMBEDDING_SAMPLE)
    )
    vector = result.data[0].embedding if result.data else None
    findings.expect(
        isinstance(vector, list) and len(vector) == len(decoded),
        Oracle.SDK,
        f"the SDK's default call returned {type(vector).__name__} of length "
        f"{len(vector) if isinstance(vector, list) else '-'}, expected {len(decoded)} floats",
    )
    return findings.outcome(
        f"base64 decodes to the same {len(decoded)} float32 values; the SDK default works", Oracle.BEHAVIOUR
    )


@check("embeddings.batch")
def embeddings_batch(ctx: CheckContext) -> Outcome:
    response = ctx.require_ok(
        ctx.wire.post("embeddings", {"model": ctx.embedding_model, "input": BATCH, "encoding_format": "float"})
    )
    body = json_object(response)
    findings = Findings()
    data = body.get("data")
    if not isinstance(data, list):
        findings.add(Oracle.BEHAVIOUR, f"data: received {type(data).__name__}, expected a list")
        return findings.fail()
    indexes = [item.get("index") if isinstance(item, dict) else None for item in data]
    findings.expect(
        sorted(i for i in indexes if isinstance(i, int)) == list(range(len(BATCH))) and len(data) == len(BATCH),
        Oracle.BEHAVIOUR,
        f"indexes {indexes} for {len(BATCH)} inputs, expected each of 0..{len(BATCH) - 1} once",
    )
    by_index = {item.get("index"): item.get("embedding") for item in data if isinstance(item, dict)}
    sizes = {len(v) for v in by_index.values() if isinstance(v, list)}
    findings.expect(len(sizes) == 1, Oracle.BEHAVIOUR, f"vectors of different sizes in one batch: {sorted(sizes)}")
    reference = _reference_vector(ctx)
    first = by_index.get(0)
    if reference is not None and isinstance(first, list) and len(first) == len(reference):
        similarity = cosine(first, reference)
        if similarity < 0.99:
            findings.add(
                Oracle.BEHAVIOUR,
                f"input 0 of the batch does not match the same text embedded alone "
                f"(cosine {similarity:.4f}): are the items in input order?",
            )
    return findings.outcome(f"{len(BATCH)} inputs give {len(BATCH)} embeddings, in input order", Oracle.BEHAVIOUR)


@check("embeddings.dimensions")
def embeddings_dimensions(ctx: CheckContext) -> Outcome:
    """Half the model's native size (learned from embeddings.basic's vector): a size strictly below it,
    so that a server ignoring `dimensions` cannot pass by chance with a model that is natively that small."""
    native = _native_size(ctx)
    if native is None:
        return skipped("the model's native size is unknown: embeddings.basic got no float vector to measure")
    if native <= 1:
        return skipped(f"the model's vectors have {native} value: there is no smaller size to ask for")
    wanted = native // 2
    response = ctx.require_ok(
        ctx.wire.post(
            "embeddings",
            {"model": ctx.embedding_model, "input": EMBEDDING_SAMPLE, "encoding_format": "float", "dimensions": wanted},
        ),
        decline_param="dimensions",
    )
    body = json_object(response)
    findings = Findings()
    try:
        vector = body["data"][0]["embedding"]
    except (KeyError, IndexError, TypeError):
        vector = None
    size = len(vector) if isinstance(vector, list) else None
    ignored = " (the native size: accepted and ignored)" if size == native else ""
    findings.expect(size == wanted, Oracle.BEHAVIOUR, f"dimensions={wanted} answered with {size} values{ignored}")
    return findings.outcome(
        f"dimensions={wanted} (half the native {native}) gives {wanted}-value vectors", Oracle.BEHAVIOUR
    )


# The OpenAPI spec's own example of a token-array input (`CreateEmbeddingRequest.input`).
TOKEN_IDS = [1212, 318, 257, 1332, 13]


@check("embeddings.input.token_array")
def input_token_array(ctx: CheckContext) -> Outcome:
    """Token ids are valid input (LangChain's OpenAIEmbeddings sends them by default). They are the
    tokenizer's own, so a server whose model reads other ids may decline them honestly (400 naming input)."""
    response = ctx.require_ok(
        ctx.wire.post("embeddings", {"model": ctx.embedding_model, "input": TOKEN_IDS, "encoding_format": "float"}),
        decline_param="input",
    )
    body = json_object(response)
    findings = Findings()
    data = body.get("data")
    if not (isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict)):
        findings.add(
            Oracle.BEHAVIOUR, f"data: received {compact(data, 80)}, expected one embedding for one token array"
        )
        return findings.fail()
    vector = data[0].get("embedding")
    if not (isinstance(vector, list) and vector and all(isinstance(v, (int, float)) for v in vector)):
        findings.add(Oracle.BEHAVIOUR, f"data[0].embedding: received {compact(vector, 80)}, expected a list of floats")
        return findings.fail()
    try:
        native = _native_size(ctx)
    except StatusError:
        native = None  # embeddings.basic says what went wrong there
    findings.expect(
        native is None or len(vector) == native,
        Oracle.BEHAVIOUR,
        f"the token-array vector has {len(vector)} values, the text vector {native}",
    )
    return findings.outcome(f"{len(TOKEN_IDS)} token ids give one {len(vector)}-value embedding", Oracle.BEHAVIOUR)


@check("embeddings.input.empty_string")
def input_empty_string(ctx: CheckContext) -> Outcome:
    """OpenAI's contract: the input 'cannot be an empty string'. Refused, the caller learns which chunk
    of its corpus is empty; embedded, it stores a vector of nothing."""
    response = ctx.wire.post("embeddings", {"model": ctx.embedding_model, "input": "", "encoding_format": "float"})
    findings = Findings()
    if 200 <= response.status < 300:
        findings.add(
            Oracle.BEHAVIOUR,
            f'input "" was embedded (HTTP {response.status}): the contract says the input cannot be an empty '
            "string, and the caller never learns its text was empty",
        )
        return findings.fail()
    if response.status != 400 and not (response.status in (403, 404) and _serves_embeddings(ctx)):
        # 404/403 from a server without embeddings is an honest decline; a redirect, 422 or 5xx is not:
        # the engine judges those, as for any refused request
        ctx.require_ok(response, decline_param="input")
    error = error_body_of(response)
    judge_error(findings, error, status=400, what='input ""')
    message = error.message or ""
    if (
        error.error is not None
        and error.status == 400
        and not param_names(error.param, "input")
        and "input" not in message.lower()
    ):
        findings.add(Oracle.WIRE, f"input \"\": the error names no field (param {error.param!r}), expected 'input'")
    return findings.outcome("400 in the OpenAI envelope naming 'input'", Oracle.WIRE)
