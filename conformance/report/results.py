"""``results.json`` on disk: the shipped JSON Schema it must satisfy, and its serialisation.

The document itself is built by :mod:`conformance.document`; this module only checks and writes it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "results.schema.json"


@lru_cache(maxsize=1)
def results_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())


def validate_results(results: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` when ``results`` breaks the shipped schema."""
    jsonschema.validate(results, results_schema(), cls=jsonschema.Draft202012Validator)


def dumps(results: dict[str, Any]) -> str:
    return json.dumps(results, indent=2, ensure_ascii=False) + "\n"
