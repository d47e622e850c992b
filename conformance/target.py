"""What a run is pointed at: base URL, API key and a model per capability.

Sources, strongest first: command-line flags, a target YAML file (``--config``), the
environment (``OPENAI_BASE_URL``, ``OPENAI_API_KEY``). The key is held in a :class:`Secret`
so that printing a target never prints it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from conformance.capabilities import BY_NAME, CAPABILITIES, NAMES

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

    def has(self, capability: str) -> bool:
        return bool(self.models.get(capability))

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
        return {"base_url": self.base_url, "models": dict(self.models), "name": self.name}


def with_trials(target: Target, trials: int | None) -> Target:
    """The target with ``trials`` (``--trials N``; ``None`` keeps it): at least 1, one try and no repeat."""
    if trials is None:
        return target
    if trials < 1:
        raise ConfigError(f"--trials must be at least 1, got {trials}")
    return replace(target, trials=trials)


def read_config(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read target config {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"target config {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"target config {path} must be a mapping")
    return data


def _validate_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"base URL must be an http(s) URL with a host, got {base_url!r}")
    if parts.query or parts.fragment:
        # The SDK mangles a base URL with a query (docs/sdk-facts.md#base-url): say so instead of testing noise.
        raise ConfigError("base URL must not carry a query or fragment (the SDK cannot use it)")
    return base_url


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

    Returns ``None`` when no base URL is configured anywhere: the caller starts the embedded
    reference mock.
    """
    env = os.environ if environ is None else environ
    config = read_config(config_path) if config_path else {}

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
