"""What a run is pointed at: base URL, API key and a model per capability.

Sources, strongest first: command-line flags, a target YAML file (``--config``), the
environment (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``). The key is held in a :class:`Secret`
so that printing a target never prints it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from conformance.capabilities import BY_NAME, CAPABILITIES, NAMES
from conformance.redact import is_credential_name

_DEFAULT_PORTS = {"http": 80, "https": 443}
# How often a check may ask again where the model, not the server, decides the outcome (a call under
# tool_choice "auto", parallel calls, structured content, stream against non-stream). Small: a
# trial is repeated only after an answer the model decided against the check, never on a clean run.
DEFAULT_TRIALS = 3


def same_origin(url: str, other: str) -> bool:
    """Scheme, host and port equal (an explicit default port counts as the default)."""

    def origin(text: str) -> tuple[str, str, int | None]:
        parts = urlsplit(text)
        scheme = parts.scheme.lower()
        return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)

    return origin(url) == origin(other)


class ConfigError(ValueError):
    """A usage or configuration problem: the CLI turns it into one line and exit code 2."""


class Secret:
    """A string that never shows itself in ``str``, ``repr`` or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Timeouts:
    """Every request is bounded; a stalled or endless server gives a verdict, not a hang."""

    connect: float = 5.0
    read: float = 20.0  # longest silence between two received bytes
    total: float = 60.0  # longest any one response (a whole stream included) may take
    max_body_bytes: int = 4 * 1024 * 1024


@dataclass(frozen=True)
class Target:
    base_url: str
    api_key: Secret
    models: Mapping[str, str]
    name: str = ""
    timeouts: Timeouts = field(default_factory=Timeouts)
    embedded_mock: bool = False
    # at most this many requests where a check's outcome depends on sampling (``conformance run --trials``)
    trials: int = DEFAULT_TRIALS
    # How to reach a server that is not plain OpenAI (:class:`TargetOptions`): headers and query
    # parameters sent with every request, SDK and raw client alike (an Azure-style ``api-key``
    # header, ``?api-version=``), and TLS verification (a private CA, or none for staging). Values
    # may be credentials: never in a repr, and ``describe`` names them only.
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    query: Mapping[str, str] = field(default_factory=dict, repr=False)
    ca_bundle: str | None = None
    insecure: bool = False

    def has(self, capability: str) -> bool:
        return bool(self.models.get(capability))

    def request_headers(self, *, credentials: bool = True) -> dict[str, str]:
        """The extra headers to send. A credential-named one (``api-key``, ``x-api-key``...) goes where
        the key goes: ``credentials=False`` for a request that sends no key, or another one (the auth
        checks), leaves them out, or a valid ``api-key`` would authenticate the request anyway."""
        return {name: value for name, value in self.headers.items() if credentials or not is_credential_name(name)}

    def secrets(self) -> tuple[Secret, ...]:
        """Every secret the run holds: the key, and the values of credential-named headers and query
        parameters. Each is masked in evidence, and withheld from other origins, like the key."""
        extra = [value for name, value in [*self.headers.items(), *self.query.items()] if is_credential_name(name)]
        return (self.api_key, *(Secret(value) for value in extra if value))

    def verify(self) -> ssl.SSLContext | bool:
        """What the HTTP clients verify the server's certificate with (httpx's ``verify``)."""
        if self.insecure:
            return False
        if self.ca_bundle:
            return _ca_context(self.ca_bundle)
        return True

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def url(self, path: str) -> str:
        """Join like the SDK does: force one trailing slash on the base, then append."""
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        return base + path.lstrip("/")

    def describe(self) -> dict[str, Any]:
        """What reports may show about the target (never the key)."""
        described: dict[str, Any] = {"base_url": self.base_url, "models": dict(self.models), "name": self.name}
        if self.headers:  # names only: a value may be a credential
            described["headers"] = sorted(self.headers)
        if self.query:
            described["query"] = sorted(self.query)
        if self.insecure or self.ca_bundle:
            described["tls"] = "not verified (--insecure)" if self.insecure else "verified against a CA bundle"
        return described


def with_trials(target: Target, trials: int | None) -> Target:
    """The target with ``trials`` (``--trials N``; ``None`` keeps it): at least 1, one try and no repeat."""
    if trials is None:
        return target
    if trials < 1:
        raise ConfigError(f"--trials must be at least 1, got {trials}")
    return replace(target, trials=trials)


# RFC 9110 field names (tokens); values without control characters (no header injection)
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


@dataclass(frozen=True)
class TargetOptions:
    """How to reach a target beyond its base URL, key and models, from the target file and flags
    (``--header``, ``--query``, ``--ca-bundle``, ``--insecure``, ``--name``): applied to whichever
    target a run gets, a server or the embedded mock."""

    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    query: Mapping[str, str] = field(default_factory=dict, repr=False)
    ca_bundle: str | None = None
    insecure: bool = False
    name: str | None = None

    def apply(self, target: Target) -> Target:
        return replace(
            target,
            headers={**target.headers, **self.headers},
            query={**target.query, **self.query},
            ca_bundle=self.ca_bundle or target.ca_bundle,
            insecure=self.insecure or target.insecure,
            name=self.name or target.name,
        )


def target_options(
    config: Mapping[str, Any] | None = None,
    *,
    config_path: Path | None = None,
    headers: Sequence[str] = (),
    query: Sequence[str] = (),
    ca_bundle: str | Path | None = None,
    insecure: bool = False,
    name: str | None = None,
) -> TargetOptions:
    """The target file's ``headers``, ``query``, ``ca_bundle``, ``insecure`` and ``name``, overridden
    by flags: ``headers`` as ``Name: value``, ``query`` as ``name=value`` (each repeatable; a flag
    replaces the file's entry of the same name). A relative ``ca_bundle`` in the file is read from
    the file's directory."""
    config = config or {}
    merged_headers: dict[str, str] = {}
    for header_name, value in _pairs(config.get("headers"), "headers"):
        _put_header(merged_headers, header_name, value)
    for text in headers:
        header_name, colon, value = text.partition(":")
        if not colon:
            raise ConfigError(f"--header wants 'Name: value', got {text!r}")
        _put_header(merged_headers, header_name.strip(), value.strip())
    merged_query = dict(_pairs(config.get("query"), "query"))
    for text in query:
        param, equals, value = text.partition("=")
        if not equals or not param.strip():
            raise ConfigError(f"--query wants 'name=value', got {text!r}")
        merged_query[param.strip()] = value
    bundle: str | Path | None = ca_bundle
    if bundle is None and config.get("ca_bundle"):
        bundle = Path(str(config["ca_bundle"])).expanduser()
        if not bundle.is_absolute() and config_path is not None:
            bundle = config_path.parent / bundle
    insecure = insecure or config.get("insecure") is True
    if bundle is not None and insecure:
        raise ConfigError("--ca-bundle and --insecure contradict each other: verify with a CA bundle, or not at all")
    if bundle is not None:
        bundle = str(bundle)
        _ca_context(bundle)  # an unreadable bundle is a configuration error now, not a connect error later
    chosen_name = name or (str(config["name"]) if config.get("name") else None)
    return TargetOptions(merged_headers, merged_query, bundle, insecure, chosen_name)


def _pairs(value: Any, key: str) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise ConfigError(f"target config: {key} must be a mapping of names to values")
    pairs = []
    for item_name, item in value.items():
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, dt.date):  # YAML reads `api-version: 2024-06-01` as a date
            item = item.isoformat()
        if not isinstance(item, (str, int, float)):
            raise ConfigError(f"target config: {key}.{item_name} must be a string")
        pairs.append((str(item_name), str(item)))
    return pairs


def _put_header(headers: dict[str, str], name: str, value: str) -> None:
    if not _HEADER_NAME.match(name):
        raise ConfigError(f"not a valid HTTP header name: {name!r}")
    if any(ord(c) < 32 and c != "\t" or ord(c) == 127 for c in value):
        raise ConfigError(f"the value of header {name} holds a control character")
    for existing in [key for key in headers if key.lower() == name.lower()]:
        del headers[existing]  # the later source wins, whatever its case
    headers[name] = value


def _ca_context(path: str) -> ssl.SSLContext:
    try:
        return ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ConfigError(f"cannot use CA bundle {path}: {reason}") from None


def read_config(path: Path, *, several: bool = False) -> dict[str, Any]:
    """The target file at ``path``, held to its schema. A file that lists several targets (``targets:``,
    or several chat models) is refused unless ``several``: only ``conformance run`` runs each of them
    (:func:`target_entries`); every other reader takes a file of one target."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read target config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"target config {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"target config {path} must be a mapping")
    data = _as_json(data)  # as JSON holds it: YAML's dates (expires, api-version) as the strings written
    check_config(data, path)
    if not several and lists_several_targets(data):
        names = [entry.name for entry in target_entries(data, path)]
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        raise ConfigError(
            f"target config {path} lists several targets ({shown}): `conformance run --config` runs each "
            "(--target NAME one of them); this command takes a file of one target"
        )
    return data


# The target file's contract, shipped for editors too (README "Pointing it at a real server").
TARGET_SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "target.schema.json"


def target_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(TARGET_SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def check_config(data: Mapping[str, Any], path: Path | str) -> None:
    """Hold a target file to ``schemas/target.schema.json``: its first problem as one line, a
    misspelt key (``base-url:``, ``model:``) with the key it probably meant."""
    import jsonschema  # only when a target file is read: the pytest plugin stays light otherwise

    _check_target_list(data, path)
    validator = jsonschema.Draft202012Validator(target_schema())
    errors = list(validator.iter_errors(_as_json(data)))
    if not errors:
        return
    # an unknown key first: a misspelt one is the likeliest cause of everything else
    error = min(errors, key=lambda e: (e.validator != "additionalProperties", len(e.absolute_path)))
    where = ".".join(str(part) if isinstance(part, str) else f"[{part}]" for part in error.absolute_path)
    where = where.replace(".[", "[")
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(error.schema.get("properties") or {})
        unknown = [key for key in error.instance if key not in known]
        if unknown and known:
            key = unknown[0]
            what = "capability" if where.rpartition(".")[2] == "models" else "key"
            inside = f" in {where}" if where else ""
            raise ConfigError(f"target config {path}: unknown {what} {key!r}{inside}{_did_you_mean(key, known)}")
    raise ConfigError(f"target config {path}: {where or 'top level'}: {error.message}")


def _did_you_mean(key: str, known: list[str]) -> str:
    spelt = key.strip().lower().replace("-", "_").replace(" ", "_")
    guess = spelt if spelt in known else next(iter(difflib.get_close_matches(spelt, known, n=1, cutoff=0.6)), None)
    if guess is not None:
        return f" (did you mean {guess!r}?)"
    return f" (know {', '.join(known)})"


def _as_json(value: Any) -> Any:
    """The YAML document as JSON would hold it: dates as ISO strings, keys as strings."""
    if isinstance(value, Mapping):
        return {str(key): _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _validate_base_url(base_url: str) -> str:
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 (a port out of range or not a number raises here, not mid-run)
    except ValueError as error:
        raise ConfigError(f"base URL {base_url!r} is not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"base URL must be an http(s) URL with a host, got {base_url!r}")
    if parts.query or parts.fragment:
        # The SDK mangles a base URL with a query (docs/sdk-facts.md#base-url): say so instead of testing noise.
        raise ConfigError(
            "base URL must not carry a query or fragment (the SDK cannot use it): "
            "pass query parameters with --query name=value, or query: in the target file"
        )
    return base_url


def check_where_it_points(
    config: Mapping[str, Any], where: str, *, base_url: str | None, environ: Mapping[str, str]
) -> None:
    """A target file names its server: ``base_url``, ``--base-url`` (``base_url`` here), or
    ``embedded_mock: true``, and only one of them. ``where`` names the file (or its entry) in the message."""
    if config.get("embedded_mock"):
        if config.get("base_url"):
            raise ConfigError(f"{where} sets both base_url and embedded_mock: true; keep one")
        if base_url:
            raise ConfigError(f"{where} says embedded_mock: true, but a base URL ({base_url}) was given; drop one")
        return
    if not base_url and not config.get("base_url"):
        # a file whose base_url was forgotten or misspelt must not certify the embedded mock
        raise ConfigError(
            f"{where} has no base_url: add `base_url: https://…/v1`, pass --base-url, "
            "or add `embedded_mock: true` to test the embedded mock"
            + (" (OPENAI_BASE_URL is not read with a target file)" if environ.get("OPENAI_BASE_URL") else "")
        )


def resolve_target(
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    models: Mapping[str, str | None] | None = None,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    timeouts: Timeouts | None = None,
) -> Target | None:
    """Build the target from flags, config and environment.

    Returns ``None`` when no base URL is configured anywhere, or the target file says
    ``embedded_mock: true``: the caller starts the embedded reference mock. A target file must say
    where it points (``base_url``, ``--base-url`` or ``embedded_mock: true``).
    """
    env = os.environ if environ is None else environ
    config = read_config(config_path) if config_path else {}
    if config_path:
        check_where_it_points(config, f"target config {config_path}", base_url=base_url, environ=env)
    if config_path and config.get("embedded_mock"):
        return None  # the embedded mock, as the file says (OPENAI_BASE_URL does not override a file)

    base_url = base_url or config.get("base_url") or env.get("OPENAI_BASE_URL") or None
    if base_url is None:
        return None
    base_url = _validate_base_url(str(base_url))

    key = api_key
    if key is None and config.get("api_key_env"):
        key = env.get(str(config["api_key_env"]))
        if key is None:
            raise ConfigError(f"environment variable {config['api_key_env']} (api_key_env) is not set")
    if key is None:
        key = env.get("OPENAI_API_KEY")
    if not key:
        raise ConfigError("no API key: pass --api-key, set OPENAI_API_KEY, or api_key_env in --config")
    if not (key.isascii() and key.isprintable()):  # said without the key itself: it is a secret
        raise ConfigError("the API key must be printable ASCII: it is sent in an HTTP header")

    merged: dict[str, str] = {}
    for capability, model in (config.get("models") or {}).items():
        if capability not in BY_NAME:
            raise ConfigError(f"unknown capability {capability!r} in config models (know {', '.join(NAMES)})")
        if model:
            merged[capability] = str(model)
    for capability, model in (models or {}).items():
        if model:
            merged[capability] = model
    if not merged.get("chat"):
        raise ConfigError("no chat model: pass --model NAME (or models.chat in --config)")
    for capability in CAPABILITIES:
        if capability.falls_back_to and merged.get(capability.falls_back_to):
            merged.setdefault(capability.name, merged[capability.falls_back_to])

    return Target(
        base_url=base_url,
        api_key=Secret(key),
        models=merged,
        name=str(config.get("name") or ""),
        timeouts=timeouts or Timeouts(),
    )


# --- several targets in one file ------------------------------------------------------------------
# A file may list several targets (`targets:`, each entry shaped like a file of one target, with a
# name), or test one server's several chat models (`models: {chat: [a, b]}`): one target per model.
# `conformance run` runs each as a run of its own; a file of one target reads as it always did.


@dataclass(frozen=True)
class TargetEntry:
    """One target of a target file: its name, and the file of one target it amounts to."""

    name: str
    config: Mapping[str, Any]  # shaped like a file of one target (schemas/target.schema.json)
    group: str  # the `targets:` entry (or file) it comes from: `--target` selects a group's every model

    @property
    def slug(self) -> str:
        return name_slug(self.name)


def name_slug(name: str) -> str:
    """A target's name as a file or directory name (``Vendor (v/chat)`` -> ``vendor-v-chat``)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "target"


def lists_several_targets(config: Mapping[str, Any]) -> bool:
    """Whether a (valid) target file lists targets (``targets:``) or several chat models."""
    return "targets" in config or isinstance((config.get("models") or {}).get("chat"), list)


def _check_target_list(data: Mapping[str, Any], path: Path | str) -> None:
    """What the schema says less clearly: a file with ``targets:`` holds nothing beside it, and an
    entry lists no targets of its own."""
    if "targets" not in data:
        return
    beside = [key for key in data if key != "targets"]
    if beside:
        raise ConfigError(
            f"target config {path}: a file with targets: holds nothing beside it (found {', '.join(beside)}): "
            "put those keys in each entry (a YAML anchor shares them)"
        )
    for index, entry in enumerate(data["targets"] if isinstance(data["targets"], list) else ()):
        if isinstance(entry, Mapping) and "targets" in entry:
            raise ConfigError(f"target config {path}: targets[{index}] lists targets of its own; entries do not nest")


def target_entries(config: Mapping[str, Any], path: Path | None = None) -> list[TargetEntry]:
    """The targets a (valid) target file names, in file order: each ``targets:`` entry, one per chat
    model where ``models.chat`` lists several (named ``NAME (MODEL)``), or the file itself. A relative
    ``ca_bundle`` is made absolute (from the file's directory): each entry must read the same wherever
    it is written. Names, and the directory names made of them, must be unique."""
    listed = config["targets"] if "targets" in config else [config]
    entries: list[TargetEntry] = []
    for item in listed:
        item = dict(item)
        if item.get("ca_bundle") and path is not None:
            bundle = Path(str(item["ca_bundle"])).expanduser()
            item["ca_bundle"] = str(bundle if bundle.is_absolute() else path.parent / bundle)
        name = str(item.get("name") or "")
        models = dict(item.get("models") or {})
        chat = models.get("chat")
        if not isinstance(chat, list):
            entries.append(TargetEntry(name, item, name))
            continue
        for model in chat:
            expanded = f"{name} ({model})" if name else str(model)
            entries.append(TargetEntry(expanded, {**item, "name": expanded, "models": {**models, "chat": model}}, name))
    where = f"target config {path}" if path is not None else "target config"
    seen: dict[str, str] = {}  # directory name -> the target's name
    for entry in entries:
        if len(entries) > 1 and not entry.name:
            raise ConfigError(f"{where}: every target of a file that lists several needs a name")
        first = seen.get(entry.slug)
        seen.setdefault(entry.slug, entry.name)
        if first is not None:
            clash = (
                f"two targets are named {first!r}"
                if first == entry.name
                else f"{first!r} and {entry.name!r} share the directory name {entry.slug!r}"
            )
            raise ConfigError(f"{where}: {clash}; give each a name of its own")
    return entries


def select_targets(entries: Sequence[TargetEntry], wanted: Sequence[str], path: Path | str) -> list[TargetEntry]:
    """The entries ``--target NAME`` (repeatable) chooses, in file order: by a target's name, its
    directory name, or the name of the entry whose chat models it expands. None wanted: every entry."""
    if not wanted:
        return list(entries)
    chosen: set[str] = set()
    for name in wanted:
        matched = [entry.name for entry in entries if name in (entry.name, entry.slug, entry.group) and name]
        if not matched:
            known = [entry.name for entry in entries if entry.name]
            guess = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            hint = f"did you mean {guess[0]!r}?" if guess else f"know {', '.join(map(repr, known))}"
            if not known:
                hint = "it names none: add name: to the file"
            raise ConfigError(f"target config {path} has no target {name!r} ({hint})")
        chosen.update(matched)
    return [entry for entry in entries if entry.name in chosen]


def check_target_entry(
    entry: TargetEntry, path: Path, *, base_url: str | None, chat_model: str | None, environ: Mapping[str, str]
) -> None:
    """What would stop this entry whatever the server or the machine: where it points, its base URL, a
    chat model, its headers and query. (A key not set, an unreachable server are the target's own
    trouble: they stop it alone, when it runs.)"""
    where = f"target config {path}: target {entry.name!r}"
    try:
        check_where_it_points(entry.config, where, base_url=base_url, environ=environ)
        if not entry.config.get("embedded_mock"):  # the mock serves a model per capability itself
            _validate_base_url(str(base_url or entry.config["base_url"]))
            if not (chat_model or (entry.config.get("models") or {}).get("chat")):
                raise ConfigError("no chat model: add models.chat (or pass --model)")
        for header_name, value in _pairs(entry.config.get("headers"), "headers"):
            _put_header({}, header_name, value)
        _pairs(entry.config.get("query"), "query")
    except ConfigError as error:
        message = str(error)
        raise ConfigError(message if message.startswith(where) else f"{where}: {message}") from None


def target_matrix(path: Path | str) -> list[dict[str, str]]:
    """The targets of a file as a CI job matrix lists them (``.github/workflows/conformance-matrix.yml``):
    each one's name (for ``--target``), directory name (for artifact names) and the environment
    variable its key is read from (``api_key_env``; empty: ``OPENAI_API_KEY``)."""
    path = Path(path)
    entries = target_entries(read_config(path, several=True), path)
    if entries and not entries[0].name:
        raise ConfigError(f"target config {path} names no target: add name: to the file")
    return [
        {"name": entry.name, "slug": entry.slug, "api_key_env": str(entry.config.get("api_key_env") or "")}
        for entry in entries
    ]
