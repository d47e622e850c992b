"""The installed SDK's types as a :class:`~conformance.sdk.paths.TypeGraph`, read through ``typing``.

A type here is the class itself: a pydantic model (its fields under their wire aliases), a
TypedDict (request params), or an annotated class (the exceptions). Reading classes is fast (the
coverage report walks every chat and Responses type in under a second), so ``conformance coverage`` and the
catalog test resolve paths here; :mod:`conformance.sdk.surface` resolves the same paths on a stored
surface when the SDK line is not the installed one.

Depends on :mod:`conformance.sdk.types` (the roots) and the installed SDK.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import typing_extensions

from conformance.sdk.types import sdk_class


def _unwrap(tp: Any) -> list[Any]:
    """Strip Optional/Union/Required/Annotated/aliases down to the concrete member types."""
    origin = typing_extensions.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing_extensions.get_args(tp) for m in _unwrap(arg)]
    if origin in (typing_extensions.Required, typing_extensions.NotRequired, typing_extensions.Annotated):
        return _unwrap(typing_extensions.get_args(tp)[0])
    if tp is type(None):
        return []
    return [tp]


def _is_list(tp: Any) -> bool:
    origin = typing_extensions.get_origin(tp)
    if origin in (list, tuple, set, frozenset):
        return True
    return isinstance(origin, type) and issubclass(origin, Iterable) and not issubclass(origin, (str, bytes, Mapping))


def _values(members: Sequence[Any]) -> list[Any]:
    """The value types of the map members (``Dict[str, X]``)."""
    found = []
    for member in members:
        origin, args = typing_extensions.get_origin(member), typing_extensions.get_args(member)
        if isinstance(origin, type) and issubclass(origin, Mapping) and len(args) == 2:
            found += _unwrap(args[1])
    return found


def _items(members: Sequence[Any]) -> list[Any]:
    """The element types of the list-like members."""
    return [item for m in members if _is_list(m) for arg in typing_extensions.get_args(m)[:1] for item in _unwrap(arg)]


@cache
def fields_of(tp: Any) -> dict[str, Any]:
    """Declared fields of a pydantic model, a TypedDict, or an annotated class (wire aliases)."""
    model_fields = getattr(tp, "model_fields", None)
    if isinstance(model_fields, dict):
        return {info.alias or name: info.annotation for name, info in model_fields.items()}
    builtin = isinstance(tp, type) and issubclass(tp, (str, int, float, bool, bytes, list, dict, tuple))
    if typing_extensions.is_typeddict(tp) or (isinstance(tp, type) and not builtin):
        try:
            hints = typing_extensions.get_type_hints(tp, include_extras=True)
        except Exception:  # an unresolvable forward reference: fall back to the names (inherited too)
            hints = {name: Any for klass in reversed(tp.__mro__) for name in vars(klass).get("__annotations__", {})}
        return {name: hint for name, hint in hints.items() if not name.startswith("_")}
    return {}


class LiveTypes:
    """The installed SDK's classes; a field's node is its annotation."""

    def root(self, name: str) -> Any:
        return sdk_class(name)

    def fields(self, key: Any) -> dict[str, Any]:
        return fields_of(key)

    # Only types with fields are handed out: a str or a Literal is where a path ends, as in a surface,
    # whose schema names no type for them.
    def members(self, node: Any) -> list[Any]:
        return [member for member in _unwrap(node) if not _is_list(member) and fields_of(member)]

    def items(self, node: Any) -> list[Any] | None:
        members = _unwrap(node)
        if not any(_is_list(member) for member in members):
            return None
        return [item for item in _items(members) if fields_of(item)]

    def values(self, node: Any) -> list[Any]:
        return [value for value in _values(_unwrap(node)) if fields_of(value)]

    def name(self, key: Any) -> str:
        return getattr(key, "__name__", str(key))

    def class_name(self, key: Any) -> str:
        return self.name(key)


LIVE = LiveTypes()


def type_label(tp: Any, ambiguous: set[str]) -> str:
    """A readable name for a type; the module disambiguates names the SDK uses twice (Choice...)."""
    name = getattr(tp, "__name__", str(tp))
    if name in ambiguous:
        return f"{tp.__module__.rsplit('.', 1)[-1]}.{name}"
    return name
