"""Before the first feature: stop with one line, and the fix, when the run could not test what the user meant.

Always: the target cannot be reached, or it rejects the key. Unless the user forces the run
(``conformance run --force``), also the two commonest mistakes, which would otherwise cost a whole
run of "unsupported" verdicts for one typo:

- a wrong base URL: ``GET /models`` answers 404 where a base URL the catalog's ``base_url.*``
  troubleshooting entries name (``/v1`` left out or doubled, an endpoint path appended) serves the
  model list, or the URL itself ends in an endpoint path the SDK appends again;
- a chat model the server does not serve: ``GET /models`` lists models without it *and*
  ``GET /models/{model}`` answers 404 while the server does retrieve models it lists (or says
  ``model_not_found``). Servers that ignore model names (llama-cpp-python lists one model and
  answers any name) or list placeholders (Prism's spec examples) do not meet both, so they run.

The wording is the catalog's (its troubleshooting entries' causes and fixes); what was seen is
said exactly, paths and statuses.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from conformance.catalog import Catalog
from conformance.target import ConfigError, same_origin
from conformance.troubleshooting import BaseUrlSuspect, base_url_suspects, entry_of
from conformance.wire import TransportFailure, WireClient, WireResponse

FORCE_HINT = "--force runs anyway"


class Stopped(ConfigError):
    """Preflight stopped the run after the target answered (it rejected the key, or the base URL
    or chat model is wrong): one line and exit 2, as any configuration mistake, and the run is
    written too (every feature an error with this cause), so that CI finds a report that says why."""


class NoAnswer(Stopped):
    """The target accepted the connection and then said nothing: what the target did is a finding,
    not a mistake of ours, so the exit code is the written run's gate."""


SHOWN_MODELS = 5  # the listed ids a message names before "and N more"


def preflight(wire: WireClient, catalog: Catalog | None = None, *, force: bool = False) -> None:
    """Fail fast, with one line, when the target cannot be used at all (a :class:`ConfigError`).

    Without ``catalog`` (or with ``force``) only an unreachable target and a rejected key stop the run.
    """
    target = wire.target
    try:
        response = wire.get("models")
    except TransportFailure as failure:
        if failure.kind == "connect":
            raise ConfigError(f"cannot reach {target.base_url}: {_reason(failure.detail)}") from None
        if failure.kind == "no_response":
            raise NoAnswer(
                f"{target.base_url} accepted the connection but sent no answer to GET /models "
                f"within {target.timeouts.read:g} s"
            ) from None
        return  # it answers, if badly: that is for the checks to judge
    moved_away = not same_origin(response.exchange.url, target.base_url)
    if response.status in (401, 403) and not moved_away:  # after a cross-origin redirect it is the server's fault
        raise Stopped(f"{target.base_url} rejected the API key (HTTP {response.status} on GET /models)")
    if force or catalog is None:
        return
    _wrong_base_url(wire, catalog, response)
    _chat_model_not_served(wire, catalog, response)


def _reason(text: str) -> str:
    for known in ("Connection refused", "Name or service not known", "No address associated", "timed out"):
        if known in text:
            return known.lower()
    if "CERTIFICATE_VERIFY_FAILED" in text:  # a staging endpoint's private CA: say the two ways out
        return "its TLS certificate is not trusted; pass --ca-bundle PATH (its CA) or --insecure (no verification)"
    return text.splitlines()[0][:160]


def _wrong_base_url(wire: WireClient, catalog: Catalog, response: WireResponse) -> None:
    if response.status not in (404, 405):
        return
    base_url = wire.target.base_url
    suspects = base_url_suspects(base_url)
    for suspect in suspects:
        probe = _get(wire, suspect.corrected.rstrip("/") + "/models")
        if probe is not None and _model_ids(probe) is not None:
            raise _base_url_error(catalog, base_url, response, suspect, probe)
    certain = next((suspect for suspect in suspects if suspect.certain), None)
    if certain is not None:
        raise _base_url_error(catalog, base_url, response, certain, None)


def _base_url_error(
    catalog: Catalog, base_url: str, response: WireResponse, suspect: BaseUrlSuspect, served: WireResponse | None
) -> Stopped:
    seen = f"GET {_path(response)} answered {response.status}"
    if served is not None:
        seen += f" and GET {_path(served)} lists the models"
    cause = _plain(entry_of(catalog, suspect.entry).cause)
    return Stopped(f"wrong base URL {base_url}: {seen}. {cause} Fix: base URL {suspect.corrected} ({FORCE_HINT})")


def _chat_model_not_served(wire: WireClient, catalog: Catalog, response: WireResponse) -> None:
    target = wire.target
    model = target.models.get("chat")
    ids = _model_ids(response)
    if not model or not ids or model in ids or any("*" in listed for listed in ids):
        return  # no list, an empty one, the model in it, or wildcard routes: nothing clear
    retrieved = _get(wire, target.url(f"models/{model}"))
    if retrieved is None or retrieved.status != 404:
        return  # Prism lists placeholders but retrieves any name
    seen = f"GET {_path(response)} lists {_shown(ids)} without it, and GET {_path(retrieved)} answered 404"
    if _error_code(retrieved) == "model_not_found":
        seen += " (model_not_found)"
    else:
        # a 404 for any id would be a server without retrieve (llama-cpp-python): it must retrieve one it lists
        listed = _get(wire, target.url(f"models/{ids[0]}"))
        if listed is None or not 200 <= listed.status < 300:
            return
        seen += f" while GET {_path(listed)} answered {listed.status}"
    fix = _plain(entry_of(catalog, "model.not_served").fix).split(". ")[0].rstrip(".")
    fix = fix[:1].lower() + fix[1:]
    raise Stopped(
        f"chat model {model!r} is not served by {target.base_url}: {seen}. "
        f"Fix: {fix} (--model, or models.chat in --config; {FORCE_HINT})"
    )


def _get(wire: WireClient, url: str) -> WireResponse | None:
    try:
        return wire.request("GET", "", absolute_url=url)
    except TransportFailure:
        return None


def _model_ids(response: WireResponse) -> list[str] | None:
    """The ids of a 2xx model list (``{"data": [{"id": ...}, ...]}``); None for anything else."""
    if not 200 <= response.status < 300:
        return None
    body: Any = response.json_or_none()
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        return None
    return [str(item["id"]) for item in body["data"] if isinstance(item, dict) and isinstance(item.get("id"), str)]


def _error_code(response: WireResponse) -> str | None:
    body: Any = response.json_or_none()
    error = body.get("error") if isinstance(body, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    return code if isinstance(code, str) else None


def _shown(ids: list[str]) -> str:
    shown = ", ".join(ids[:SHOWN_MODELS])
    return shown + (f" and {len(ids) - SHOWN_MODELS} more" if len(ids) > SHOWN_MODELS else "")


def _path(response: WireResponse) -> str:
    return urlsplit(response.exchange.url).path or "/"


def _plain(text: str) -> str:
    """A catalog sentence for a terminal line: no Markdown code marks."""
    return text.replace("`", "")
