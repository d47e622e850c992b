"""Read the installed openai SDK's surface: endpoints, types as JSON Schema, exceptions.

Method (docs/sdk-facts.md#endpoint-inventory, docs/sdk-facts.md#surface-snapshot): the endpoint
inventory walks a client's resource tree and reads the path of every ``self._get/_post/...`` call
from the method's source; the types are every pydantic model and TypedDict defined under
``openai.types``, emitted together through ``TypeAdapter.json_schemas`` so that shared sub-schemas
appear once, then keyed by module path (``openai.types.chat.chat_completion.ChatCompletion``) with
every ``$ref`` rewritten to such a key. Nothing here is sent over the network.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import pkgutil
import textwrap
import warnings
from collections.abc import Iterator
from typing import Any

import typing_extensions

from conformance.sdk.types import catalog_roots

SURFACE_FORMAT = 1
HTTP_CALLS = {"_get": "GET", "_post": "POST", "_put": "PUT", "_patch": "PATCH", "_delete": "DELETE"}
PAGINATED_CALLS = {"_get_api_list": "GET"}
# Statuses whose exception class the surface records (the SDK's table, docs/sdk-facts.md#status-exceptions,
# plus neighbours).
STATUSES = (400, 401, 402, 403, 404, 405, 408, 409, 413, 415, 422, 429, 500, 501, 502, 503, 504)


# The modules that define the catalog's types (and what they nest): extracting only these is ~5x
# faster, and types they reference elsewhere still come along, keyed the same way.
def catalog_modules() -> tuple[str, ...]:
    return (
        "openai.types.chat.",
        "openai.types.completion",
        "openai.types.embedding",
        "openai.types.create_embedding_response",
        "openai.types.model",
        "openai.types.shared",
        *sorted({module for module, _ in catalog_roots().values() if module.startswith("openai.types.")}),
    )


def extract_surface(modules: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The installed SDK's surface; ``modules`` limits the types to those module prefixes."""
    import openai

    types, failures, aliases = _types(modules)
    return {
        "format": SURFACE_FORMAT,
        "sdk": {"package": "openai", "version": openai.__version__},
        "endpoints": _endpoints(),
        "exceptions": _exceptions(),
        "types": types,
        "wire_aliases": aliases,
        "not_extracted": failures,
    }


# --- endpoints ---------------------------------------------------------------------------------------


def _endpoints() -> dict[str, dict[str, Any]]:
    from openai import OpenAI

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = OpenAI(api_key="surface-extraction", base_url="http://127.0.0.1:9/v1")
    endpoints: dict[str, dict[str, Any]] = {}
    for name, resource in _resources(client, "", set()):
        for method_name, function in inspect.getmembers(type(resource), inspect.isfunction):
            if method_name.startswith("_"):
                continue
            calls = _http_calls(function)
            entry: dict[str, Any] = {"params": _parameters(function)}
            if calls:
                entry["verb"], entry["path"], entry["paginated"] = calls[0]
            else:
                entry["helper"] = True
            endpoints[f"{name}.{method_name}"] = entry
    return dict(sorted(endpoints.items()))


def _resources(owner: Any, prefix: str, seen: set[int]) -> Iterator[tuple[str, Any]]:
    from openai._resource import SyncAPIResource

    for attr, value in sorted(vars(type(owner)).items()):
        if attr.startswith("_") or attr.startswith("with_") or not isinstance(value, functools.cached_property):
            continue
        try:
            resource = getattr(owner, attr)
        except Exception:  # a resource needing an optional dependency: not part of the HTTP surface here
            continue
        if not isinstance(resource, SyncAPIResource) or id(type(resource)) in seen:
            continue
        name = f"{prefix}{attr}"
        yield name, resource
        yield from _resources(resource, name + ".", seen | {id(type(resource))})


def _http_calls(function: Any) -> list[tuple[str, str, bool]]:
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return []
    calls = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner, attr = node.func.value, node.func.attr
        if not (isinstance(owner, ast.Name) and owner.id == "self") or not node.args:
            continue
        if attr in HTTP_CALLS or attr in PAGINATED_CALLS:
            path = _path_of(node.args[0])
            if path is not None:
                verb = HTTP_CALLS.get(attr) or _list_verb(node)
                calls.append((verb, path, attr in PAGINATED_CALLS))
    return calls


def _list_verb(node: ast.Call) -> str:
    for keyword in node.keywords:
        if keyword.arg == "method" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value).upper()
    return "GET"


def _path_of(node: ast.expr) -> str | None:
    """A path literal, f-string or ``path_template("...", ...)`` call, parameters as ``{name}``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            elif isinstance(value, ast.FormattedValue):
                parts.append("{" + ast.unparse(value.value) + "}")
        return "".join(parts)
    if isinstance(node, ast.Call) and node.args:
        return _path_of(node.args[0])
    return None


def _parameters(function: Any) -> list[str]:
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return []
    return [p for p in signature.parameters if p != "self"]


# --- exceptions --------------------------------------------------------------------------------------


def _exceptions() -> dict[str, Any]:
    import openai

    from conformance.sdk.client import http_module

    module = http_module()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = openai.OpenAI(api_key="surface-extraction", base_url="http://127.0.0.1:9/v1")
    request = module.Request("GET", "http://127.0.0.1:9/v1/x")
    by_status = {}
    for status in STATUSES:
        error = client._make_status_error("x", body=None, response=module.Response(status, request=request))
        by_status[str(status)] = type(error).__name__
    classes = {}
    for name, value in sorted(vars(openai).items()):
        if isinstance(value, type) and issubclass(value, openai.OpenAIError):
            attributes = sorted(
                {a for klass in value.__mro__ if klass.__module__.startswith("openai") for a in _annotations(klass)}
            )
            classes[name] = {"bases": [b.__name__ for b in value.__bases__], "attributes": attributes}
    return {"by_status": by_status, "classes": classes}


def _annotations(klass: type) -> list[str]:
    return [name for name in vars(klass).get("__annotations__", {}) if not name.startswith("_")]


# --- types -------------------------------------------------------------------------------------------


def _type_classes(modules: tuple[str, ...] | None) -> Iterator[tuple[str, type, str]]:
    """(key, class, schema mode) for every model and TypedDict defined under ``openai.types``."""
    import openai.types
    import pydantic

    for info in sorted(pkgutil.walk_packages(openai.types.__path__, "openai.types."), key=lambda i: i.name):
        if modules is not None and not info.name.startswith(modules):
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception:  # a module needing an optional dependency
            continue
        for name, value in sorted(vars(module).items()):
            if not isinstance(value, type) or value.__module__ != module.__name__ or value.__name__ != name:
                continue
            if issubclass(value, pydantic.BaseModel):
                yield f"{module.__name__}.{name}", value, "validation"
            elif typing_extensions.is_typeddict(value):
                yield f"{module.__name__}.{name}", value, "serialization"


def _types(modules: tuple[str, ...] | None) -> tuple[dict[str, Any], list[str], dict[str, dict[str, str]]]:
    from pydantic import ConfigDict, TypeAdapter
    from pydantic._internal._mock_val_ser import MockCoreSchema
    from pydantic.json_schema import GenerateJsonSchema

    class SurfaceSchema(GenerateJsonSchema):
        # file uploads are IO[bytes]: on the wire they are binary strings (docs/sdk-facts.md#surface-snapshot)
        def is_instance_schema(self, schema: Any) -> dict[str, Any]:
            return {"type": "string", "format": "binary"}

        def get_defs_ref(self, core_mode_ref: Any) -> Any:
            # always name a definition by its module path: the same key whatever else is generated
            # alongside it (pydantic would shorten names that happen not to collide this time)
            defs_ref = super().get_defs_ref(core_mode_ref)
            choices = self._prioritized_defsref_choices[defs_ref]
            self._prioritized_defsref_choices[defs_ref] = choices[2:]
            return defs_ref

    adapters: list[Any] = []
    failures = []
    classes: dict[str, type] = {}
    aliases: dict[str, dict[str, str]] = {}
    for key, klass, mode in _type_classes(modules):
        try:
            adapter = _adapter(klass, TypeAdapter, ConfigDict)
            if isinstance(adapter.core_schema, MockCoreSchema):
                adapter.rebuild(force=True, raise_errors=True)
        except Exception:
            failures.append(key)
            continue
        if isinstance(adapter.core_schema, MockCoreSchema):
            failures.append(key)
            continue
        adapters.append((key, mode, adapter))
        classes[key] = klass
        renamed = _wire_aliases(klass)
        if renamed:
            aliases[key] = renamed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        roots, document = TypeAdapter.json_schemas(adapters, schema_generator=SurfaceSchema)
    definitions: dict[str, Any] = document.get("$defs", {})
    names = {_def_name(ref["$ref"]): key for (key, _), ref in roots.items() if set(ref) == {"$ref"}}
    for name in definitions:
        names.setdefault(name, name.replace("__", "."))  # a class outside the modules asked for: its path
    types: dict[str, Any] = {}
    for (key, _), ref in roots.items():
        schema = definitions[_def_name(ref["$ref"])] if set(ref) == {"$ref"} else ref
        types[key] = {
            "kind": "params" if typing_extensions.is_typeddict(classes[key]) else "model",
            "schema": _rewrite_refs(schema, names),
        }
    for name, schema in definitions.items():
        key = names[name]
        if key not in types:
            types[key] = {"kind": "nested", "schema": _rewrite_refs(schema, names)}
    return dict(sorted(types.items())), sorted(failures), dict(sorted(aliases.items()))


def _adapter(klass: type, type_adapter: Any, config_dict: Any) -> Any:
    try:
        return type_adapter(klass)
    except Exception:
        if not typing_extensions.is_typeddict(klass):
            raise
        # file-upload params hold IO[bytes] (docs/sdk-facts.md#surface-snapshot): allow it inside the extraction only
        klass.__pydantic_config__ = config_dict(arbitrary_types_allowed=True)  # type: ignore[attr-defined]
        return type_adapter(klass)


def _def_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _rewrite_refs(node: Any, names: dict[str, str]) -> Any:
    """Point every ``$ref`` at a type key, and drop prose (``description``, ``title``): it changes
    with every docs edit and says nothing about the wire."""
    if isinstance(node, list):
        return [_rewrite_refs(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k in ("description", "title"):
            continue
        if k == "$ref" and isinstance(v, str):
            out[k] = names.get(_def_name(v), v)
        elif k in ("properties", "patternProperties") and isinstance(v, dict):
            out[k] = {name: _rewrite_refs(sub, names) for name, sub in v.items()}  # names, not keywords
        else:
            out[k] = _rewrite_refs(v, names)
    return out


def _wire_aliases(klass: type) -> dict[str, str]:
    """``PropertyInfo(alias=...)`` renames the SDK applies on the wire, invisible to pydantic
    (docs/sdk-facts.md#surface-snapshot)."""
    if not typing_extensions.is_typeddict(klass):
        return {}
    try:
        hints = typing_extensions.get_type_hints(klass, include_extras=True)
    except Exception:
        return {}
    renamed = {}
    for field, hint in hints.items():
        while typing_extensions.get_origin(hint) in (typing_extensions.Required, typing_extensions.NotRequired):
            hint = typing_extensions.get_args(hint)[0]
        for meta in getattr(hint, "__metadata__", ()):
            alias = getattr(meta, "alias", None)
            if isinstance(alias, str) and alias != field:
                renamed[field] = alias
    return renamed
