"""Paths into the pinned SDK's types, as the catalog's ``sdk_fields`` write them.

A path starts at a root type and follows field names; ``[]`` steps into list items:
``ChatCompletion.choices[].message.content``. Unions are followed into every member that has
the field (message params are a union by role), so a path resolves when any member has it.
"""

from __future__ import annotations

import importlib
import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import typing_extensions

# Root name -> (module, class). Names are the ones a reader knows from the SDK's docs.
ROOTS: dict[str, tuple[str, str]] = {
    "ChatCompletionCreateParams": ("openai.types.chat.completion_create_params", "CompletionCreateParamsBase"),
    "ChatCompletion": ("openai.types.chat", "ChatCompletion"),
    "ChatCompletionChunk": ("openai.types.chat", "ChatCompletionChunk"),
    "Model": ("openai.types", "Model"),
    "EmbeddingCreateParams": ("openai.types.embedding_create_params", "EmbeddingCreateParams"),
    "CreateEmbeddingResponse": ("openai.types", "CreateEmbeddingResponse"),
    "APIError": ("openai", "APIError"),
    "APIStatusError": ("openai", "APIStatusError"),
}
# Body fields that live on the create() call, not on the params TypedDict (dossier §8).
CALL_FIELDS: dict[str, dict[str, Any]] = {"ChatCompletionCreateParams": {"stream": bool}}

_SEGMENT = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?P<list>\[\])?$")


class UnresolvedField(LookupError):
    pass


def root_type(name: str) -> Any:
    module, attr = ROOTS[name]
    return getattr(importlib.import_module(module), attr)


def _unwrap(tp: Any) -> list[Any]:
    """Strip Optional/Union/Required/Annotated/aliases down to the concrete member types."""
    origin = typing_extensions.get_origin(tp)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return [m for arg in typing_extensions.get_args(tp) for m in _unwrap(arg)]
    if origin in (
        typing_extensions.Required,
        typing_extensions.NotRequired,
        typing_extensions.Annotated,
        typing.Required,
        typing.NotRequired,
        typing.Annotated,
    ):
        return _unwrap(typing_extensions.get_args(tp)[0])
    if tp is type(None):
        return []
    return [tp]


def _items(tp: Any) -> list[Any]:
    """The element types of a list-like type."""
    out: list[Any] = []
    for member in _unwrap(tp):
        origin = typing_extensions.get_origin(member)
        if origin in (list, tuple, set, frozenset) or (
            isinstance(origin, type)
            and issubclass(origin, (Iterable, Sequence))
            and not issubclass(origin, (str, bytes, Mapping))
        ):
            args = typing_extensions.get_args(member)
            if args:
                out.extend(_unwrap(args[0]))
    return out


@cache
def fields_of(tp: Any) -> dict[str, Any]:
    """Declared fields of a pydantic model, a TypedDict, or an annotated class (wire aliases)."""
    model_fields = getattr(tp, "model_fields", None)
    if isinstance(model_fields, dict):
        return {info.alias or name: info.annotation for name, info in model_fields.items()}
    if typing_extensions.is_typeddict(tp) or isinstance(tp, type):
        try:
            hints = typing_extensions.get_type_hints(tp, include_extras=True)
        except Exception:  # an unresolvable forward reference: fall back to the names only
            hints = {name: Any for name in getattr(tp, "__annotations__", {})}
        return {name: hint for name, hint in hints.items() if not name.startswith("_")}
    return {}


def resolve(path: str) -> list[Any]:
    """The types at ``path``; raise :class:`UnresolvedField` when no union member has it."""
    root, _, rest = path.partition(".")
    if root not in ROOTS:
        raise UnresolvedField(f"{path}: unknown root type {root!r} (known: {', '.join(ROOTS)})")
    current = [root_type(root)]
    extra = CALL_FIELDS.get(root, {})
    for index, segment in enumerate(rest.split(".") if rest else []):
        match = _SEGMENT.match(segment)
        if not match:
            raise UnresolvedField(f"{path}: bad segment {segment!r}")
        name = match.group("name")
        found: list[Any] = []
        for tp in current:
            fields = fields_of(tp)
            if name in fields:
                found.extend(_unwrap(fields[name]))
        if not found and index == 0 and name in extra:
            found = [extra[name]]
        if not found:
            raise UnresolvedField(
                f"{path}: no field {name!r} in {', '.join(getattr(t, '__name__', str(t)) for t in current)}"
            )
        if match.group("list"):
            found = _items(found[0] if len(found) == 1 else typing.Union[tuple(found)])  # noqa: UP007 (built at run time)
            if not found:
                raise UnresolvedField(f"{path}: {name!r} is not a list")
        current = found
    return current
