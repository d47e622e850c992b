"""The wire around the API: routes, base-URL mistakes, trailing slashes, redirects.

These are the gotchas that turn "change only base_url" into a support ticket (The Grid's "Common
gotchas", tests/data/seeds/001_1badc60d5130d121.txt). They are probed with the raw client,
redirects *not* followed, so the report can say exactly what a client meets; where the SDK's
behaviour is the point (it follows redirects, drops Authorization across origins, joins paths
without normalising them) the verdict says so (docs/sdk-facts.md#base-url,
docs/sdk-facts.md#redirects).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from conformance.checks._common import SHORT_REPLY, compact
from conformance.checks._judges import error_body_of, judge_error
from conformance.checks._requests import redirect_probes
from conformance.context import CheckContext
from conformance.envelope import envelope_problems
from conformance.registry import check
from conformance.verdict import Findings, Oracle, Outcome
from conformance.wire import (
    METHOD_CHANGING_REDIRECTS,
    METHOD_KEEPING_REDIRECTS,
    RecordedExchange,
    WireResponse,
    cross_origin_redirect,
)

UNKNOWN_ROUTE = "conformance-no-such-route"


def _describe(response: WireResponse) -> str:
    """What a client meets, in a few words: served, a redirect, or an error and its body."""
    if 200 <= response.status < 300:
        return f"served ({response.status})"
    if 300 <= response.status < 400:
        return f"redirect {response.status} to {response.headers.get('location') or '(no Location)'}"
    body = error_body_of(response)
    if not envelope_problems(body):
        return f"{response.status} in the OpenAI envelope ({body.message or ''})"[:160]
    kind = (
        "an HTML page"
        if response.body.lstrip()[:1] == b"<"
        else ("an empty body" if not response.body.strip() else f"a non-envelope body {response.body[:60]!r}")
    )
    return f"{response.status} with {kind}"


@check("http.path.unknown_route")
def unknown_route(ctx: CheckContext) -> Outcome:
    findings = Findings()
    for method in ("GET", "POST"):
        response = ctx.wire.request(method, UNKNOWN_ROUTE, json_body={} if method == "POST" else None)
        judge_error(findings, error_body_of(response), status=404, what=f"{method} /{UNKNOWN_ROUTE}")
    return findings.outcome("an unknown route gives 404 in the OpenAI envelope (GET and POST)", Oracle.WIRE)


# A method no OpenAI route takes (GET /chat/completions lists stored completions, so it is no probe).
WRONG_METHOD = "PUT"


@check("http.path.wrong_method")
def wrong_method(ctx: CheckContext) -> Outcome:
    body = {"model": ctx.chat_model, "messages": SHORT_REPLY, "max_tokens": 1}
    response = ctx.wire.request(WRONG_METHOD, "chat/completions", json_body=body)
    findings = Findings()
    what = f"{WRONG_METHOD} /chat/completions"
    findings.expect(
        response.status in (404, 405),
        Oracle.WIRE,
        f"{what} answered HTTP {response.status}, expected 405 (or 404)",
    )
    if response.status >= 400:
        findings.extend(Oracle.WIRE, [f"{what}: {p}" for p in envelope_problems(error_body_of(response))])
    if response.status == 405 and not response.headers.get("allow"):
        findings.note("405 without an Allow header (HTTP asks for one)")
    return findings.outcome(f"{what} gives {response.status} in the OpenAI envelope", Oracle.WIRE)


@dataclass(frozen=True)
class BaseUrlVariant:
    name: str
    base_url: str
    # a verdict variant must answer in the envelope; an informational one is only reported
    verdict: bool
    fix: str


def _variants(base_url: str) -> list[BaseUrlVariant]:
    base = base_url.rstrip("/")
    variants = [
        BaseUrlVariant(
            "with a trailing slash",
            base + "/",
            False,
            "harmless with openai-python, which joins paths without a double slash",
        ),
        BaseUrlVariant(
            "with /chat/completions appended",
            base + "/chat/completions",
            True,
            f"set base_url to {base}: the SDK appends /chat/completions itself",
        ),
    ]
    if base.endswith("/v1"):
        variants.append(
            BaseUrlVariant(
                "with /v1 doubled",
                base + "/v1",
                True,
                f"set base_url to {base}; a tool that appends /v1 itself needs {base[:-3]}",
            )
        )
        variants.append(
            BaseUrlVariant(
                "without /v1", base[:-3] or base, False, f"set base_url to {base}: openai-python never adds /v1"
            )
        )
    return variants


@check("http.path.misconfigured_base_url")
def misconfigured_base_url(ctx: CheckContext) -> Outcome:
    findings = Findings()
    for variant in _variants(ctx.target.base_url):
        # what client.models.list() sends with this base_url (the SDK joins base + "models" as is)
        url = variant.base_url.rstrip("/") + "/models"
        response = ctx.wire.request("GET", "", absolute_url=url, follow_redirects=False)
        met = _describe(response)
        findings.note(f"base_url {variant.base_url} ({variant.name}): GET {urlsplit(url).path} -> {met}; {variant.fix}")
        if variant.verdict and response.status >= 400 and response.status != 405:
            problems = envelope_problems(error_body_of(response))
            findings.extend(
                Oracle.WIRE, [f"base_url {variant.name}: {p} (users cannot tell what is wrong)" for p in problems[:1]]
            )
        if variant.verdict and response.status >= 500:
            findings.add(Oracle.WIRE, f"base_url {variant.name}: HTTP {response.status} for a wrong path")
        if variant.verdict and 200 <= response.status < 300 and not _is_model_list(response):
            # served, but as something else: models.list() silently reads no models from it
            findings.add(
                Oracle.WIRE,
                f"base_url {variant.name}: GET {urlsplit(url).path} answered {response.status} with "
                f"{compact(response.json_or_none(), 80)}, not a model list: users get a wrong object, not an error",
            )
    return findings.outcome(
        "wrong base URLs get a readable 404 in the envelope; the fixes are in the notes", Oracle.WIRE
    )


def _is_model_list(response: WireResponse) -> bool:
    body = response.json_or_none()
    return isinstance(body, dict) and isinstance(body.get("data"), list)


@check("http.path.trailing_slash")
def trailing_slash(ctx: CheckContext) -> Outcome:
    body = {"model": ctx.chat_model, "messages": SHORT_REPLY, "max_tokens": 1}
    response = ctx.wire.post("chat/completions/", body, follow_redirects=False)
    findings = Findings()
    met = _describe(response)
    if response.status in METHOD_CHANGING_REDIRECTS:
        findings.add(
            Oracle.WIRE,
            f"POST /chat/completions/ -> {met}: a {response.status} turns the POST into a GET "
            "in every client that follows it (httpx, the SDK)",
        )
    elif response.status >= 400:
        findings.extend(
            Oracle.WIRE, [f"POST /chat/completions/: {p}" for p in envelope_problems(error_body_of(response))]
        )
        if response.status >= 500:
            findings.add(Oracle.WIRE, f"POST /chat/completions/ answered HTTP {response.status}")
    findings.note(f"POST /chat/completions/ (a trailing slash on the route, as some clients build it) -> {met}")
    return findings.outcome(f"a trailing slash on the route: {met}", Oracle.WIRE)


@check("http.redirect.post")
def redirect_post(ctx: CheckContext) -> Outcome:
    findings = Findings()
    for route, response in redirect_probes(ctx):
        if not 300 <= response.status < 400:
            continue
        location = response.headers.get("location")
        if not location:
            findings.add(Oracle.WIRE, f"{route} -> {response.status} without a Location: the SDK raises APIStatusError")
        elif route.startswith("POST") and response.status in METHOD_CHANGING_REDIRECTS:
            findings.add(
                Oracle.SDK,
                f"{route} -> {response.status} to {location}: the SDK (httpx) follows it as a "
                "GET without the body, so every call fails",
            )
        elif response.status in METHOD_KEEPING_REDIRECTS:
            findings.note(
                f"{route} -> {response.status} to {location}: openai-python follows it and re-sends the "
                "body; curl needs -L and clients that do not follow redirects (aiohttp) fail"
            )
    return findings.outcome("no POST route answers 301, 302 or 303", Oracle.WIRE)


@check("http.redirect.same_origin")
def redirect_same_origin(ctx: CheckContext) -> Outcome:
    """Judges every redirect the run met (``observes: run`` in the catalog: it runs after the rest)."""
    findings = Findings()
    seen: list[tuple[str, RecordedExchange]] = [(route, response.exchange) for route, response in redirect_probes(ctx)]
    seen += [(f"{e.method} {urlsplit(e.url).path}", e) for e in ctx.observed.redirects]
    reported: set[str] = set()
    for route, exchange in seen:
        destination = cross_origin_redirect(exchange, ctx.target.origin)
        if destination is not None and route not in reported:
            reported.add(route)
            ctx.cite([exchange])
            findings.add(
                Oracle.SDK,
                f"{route} -> {exchange.status} to {destination}: another origin, where httpx "
                "and the SDK drop the Authorization header, so the call arrives unauthenticated",
            )
    for destination in sorted(set(ctx.observed.key_withheld)):
        findings.note(f"the suite withheld the API key from {destination}, where a redirect sent it")
    return findings.outcome("every redirect stays on the target's origin (or there is none)", Oracle.WIRE)
