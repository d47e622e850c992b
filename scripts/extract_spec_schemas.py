"""Regenerate conformance/schemas/openai-spec.json, the strict oracle's schemas, from OpenAI's published spec:

    python scripts/extract_spec_schemas.py [SPEC.yml]     (default: ../shared/data/openai-openapi.yml)

Takes only what the strict reading judges: for each operation the catalog calls (OPERATIONS), the
schema of its JSON answer, of its streamed chunks where the catalog streams it, and of its error
answers, with every ``$ref`` they reach closed over (into ``$defs``). Before extracting, it applies
the spec's errata (conformance/openapi/errata.py) and turns ``nullable: true`` into 2020-12 types.
The output records the source file's sha256 and the spec's version, and
``tests/test_openapi_oracle.py`` regenerates it from the source, when present, and compares.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from conformance.openapi.errata import ERRATA, nullable_to_2020, patched_spec

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "openai-openapi.yml"
OUTPUT = ROOT / "conformance" / "schemas" / "openai-spec.json"
COMPONENT = "#/components/schemas/"
DEFS = "#/$defs/"
ANNOTATIONS = frozenset({"description", "title", "example", "examples", "discriminator"})

# (method, path in the spec, whether the catalog streams it): the operations the catalog calls
OPERATIONS: tuple[tuple[str, str, bool], ...] = (
    ("GET", "/models", False),
    ("GET", "/models/{model}", False),
    ("POST", "/chat/completions", True),
    ("POST", "/completions", True),
    ("POST", "/embeddings", False),
    ("POST", "/responses", True),
    ("GET", "/responses/{response_id}", False),
    ("DELETE", "/responses/{response_id}", False),
    ("GET", "/responses/{response_id}/input_items", False),
    ("POST", "/images/generations", False),
    ("POST", "/audio/transcriptions", False),
    ("POST", "/audio/translations", False),
    ("POST", "/audio/speech", False),  # binary audio: only its errors are JSON
    ("POST", "/moderations", False),
    ("GET", "/batches", False),
    ("POST", "/batches", False),
    ("GET", "/batches/{batch_id}", False),
    ("POST", "/batches/{batch_id}/cancel", False),
    ("GET", "/files", False),
    ("POST", "/files", False),
    ("GET", "/files/{file_id}", False),
    ("DELETE", "/files/{file_id}", False),
    ("GET", "/files/{file_id}/content", False),  # the file's bytes: only its errors are JSON
    ("GET", "/fine_tuning/jobs", False),
    ("GET", "/assistants", False),
)


def load_spec(path: Path = SOURCE) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as handle:
        return dict(yaml.load(handle, Loader=loader))


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _resolve_response(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    ref = response.get("$ref")
    if isinstance(ref, str):
        return dict(spec["components"]["responses"][ref.rsplit("/", 1)[-1]])
    return response


def _json_schema(spec: dict[str, Any], response: dict[str, Any], media_type: str) -> Any:
    content = _resolve_response(spec, response).get("content") or {}
    return (content.get(media_type) or {}).get("schema")


def _refs(node: Any) -> set[str]:
    if isinstance(node, list):
        return {ref for item in node for ref in _refs(item)}
    if not isinstance(node, dict):
        return set()
    found = {ref for value in node.values() for ref in _refs(value)}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(COMPONENT):
        found.add(ref.removeprefix(COMPONENT))
    return found


def _rewrite(node: Any, names: bool = False) -> Any:
    """``#/components/schemas/X`` -> ``#/$defs/X``, without the annotations validation never reads
    (descriptions, titles, examples, OpenAPI's discriminator, ``x-`` extensions). ``names``: ``node``
    maps property names to schemas, so a property called ``description`` stays."""
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if not names and (key in ANNOTATIONS or key.startswith("x-")):
            continue
        out[key] = _rewrite(value, names=not names and key in ("properties", "patternProperties", "$defs"))
    if isinstance(out.get("$ref"), str):
        out["$ref"] = out["$ref"].replace(COMPONENT, DEFS)
    return out


def extract(spec: dict[str, Any], sha256: str, source_name: str = SOURCE.name) -> dict[str, Any]:
    """The shipped document: the pin, the errata, the operations and the schemas they reach."""
    spec = patched_spec(spec)
    operations = []
    roots: list[Any] = []
    for method, path, streamed in OPERATIONS:
        responses = spec["paths"][path][method.lower()]["responses"]
        ok = next(r for status, r in responses.items() if str(status).startswith("2"))
        errors = {
            str(status): _json_schema(spec, response, "application/json")
            for status, response in responses.items()
            if str(status) == "default" or str(status)[:1] in ("4", "5")
        }
        operation = {
            "method": method,
            "path": path,
            "body": _json_schema(spec, ok, "application/json"),
            "stream": _json_schema(spec, ok, "text/event-stream") if streamed else None,
            "errors": {status: schema for status, schema in errors.items() if schema is not None},
        }
        operations.append(operation)
        roots += [operation["body"], operation["stream"], *operation["errors"].values()]
    schemas = spec["components"]["schemas"]
    wanted: set[str] = set()
    pending = set(_refs(roots))
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending |= _refs(schemas[name])
    info = spec.get("info") or {}
    return {
        "description": "OpenAI's published response schemas the strict reading judges evidence against, "
        "extracted by scripts/extract_spec_schemas.py; do not edit by hand.",
        "source": {
            "file": source_name,
            "sha256": sha256,
            "openapi": str(spec.get("openapi")),
            "version": str(info.get("version")),
            # the file names no commit of openai/openai-openapi: its sha256 is the pin
            "commit": None,
        },
        "errata": [{"what": what, "source": source} for what, source in ERRATA],
        "operations": _rewrite(nullable_to_2020(operations)),
        "$defs": {name: _rewrite(nullable_to_2020(schemas[name])) for name in sorted(wanted)},
    }


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    source = Path(argv[0]) if argv else SOURCE
    if not source.exists():
        print(f"no spec at {source}", file=sys.stderr)
        return 2
    document = extract(load_spec(source), sha256_of(source), source.name)
    OUTPUT.write_text(dumps(document), encoding="utf-8")
    size = OUTPUT.stat().st_size
    print(
        f"wrote {OUTPUT.relative_to(ROOT)}: {len(document['operations'])} operations, "
        f"{len(document['$defs'])} schemas, {size // 1024} KiB (spec {document['source']['version']})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
