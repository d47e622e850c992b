"""Checks register here, each bound to exactly one catalog ID."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conformance.context import CheckContext
    from conformance.verdict import Outcome

CheckFunction = Callable[["CheckContext"], "Outcome"]


@dataclass(frozen=True)
class CheckSpec:
    feature_id: str
    function: CheckFunction

    @property
    def name(self) -> str:
        return f"{self.function.__module__}.{self.function.__qualname__}"


REGISTRY: dict[str, CheckSpec] = {}


class RegistryError(RuntimeError):
    pass


def check(feature_id: str) -> Callable[[CheckFunction], CheckFunction]:
    """Bind a check function to a catalog feature ID."""

    def register(function: CheckFunction) -> CheckFunction:
        existing = REGISTRY.get(feature_id)
        if existing is not None and existing.function.__qualname__ != function.__qualname__:
            raise RegistryError(f"two checks claim {feature_id!r}: {existing.name} and {function.__qualname__}")
        REGISTRY[feature_id] = CheckSpec(feature_id, function)
        function.__conformance_feature__ = feature_id  # type: ignore[attr-defined]
        return function

    return register


def load_checks() -> dict[str, CheckSpec]:
    """Import every module of ``conformance.checks`` so that all checks are registered."""
    import conformance.checks as package

    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{module.name}")
    return REGISTRY
