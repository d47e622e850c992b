"""``conformance list``: the catalog's features, what each needs, and whether it would run.

A feature runs when the target configures a model for every capability it ``needs`` (the engine
skips it otherwise: "no embeddings model configured"). Which models a run would have is decided as
``conformance run`` decides it, without sending anything and without a key: a run with no base URL
anywhere (flags, the target file, ``OPENAI_BASE_URL``) is a run against the embedded mock, which
serves a model for every capability, the flags' and the file's models over its own; any other run
has the models the flags and the file configure, a capability's fallback included (``tools`` uses
the chat model). Depends on the catalog and the capability table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.capabilities import CAPABILITIES, mock_models
from conformance.catalog import Feature


@dataclass(frozen=True)
class Models:
    """The models a run would configure, and where they come from."""

    models: Mapping[str, str]
    embedded_mock: bool

    @property
    def source(self) -> str:
        return "the embedded mock's models" if self.embedded_mock else "the configured models"


def listing_models(
    config: Mapping[str, Any] | None,
    flags: Mapping[str, str | None],
    *,
    base_url: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> Models:
    """The models ``conformance run`` would have with these flags, target file and environment."""
    config = config or {}
    environ = environ or {}
    configured: dict[str, str] = {
        capability: str(model) for capability, model in (config.get("models") or {}).items() if model
    }
    configured |= {capability: model for capability, model in flags.items() if model}
    with_file = bool(config)
    embedded = bool(config.get("embedded_mock")) or not (
        base_url or config.get("base_url") or (not with_file and environ.get("OPENAI_BASE_URL"))
    )
    merged = {**mock_models(), **configured} if embedded else dict(configured)
    for capability in CAPABILITIES:
        if capability.falls_back_to and merged.get(capability.falls_back_to):
            merged.setdefault(capability.name, merged[capability.falls_back_to])
    return Models(merged, embedded)


def missing(feature: Feature, models: Mapping[str, str]) -> list[str]:
    """The capabilities ``feature`` needs that ``models`` has no model for (the engine's skip rule)."""
    return [need for need in feature.needs if not models.get(need)]


def listing_json(features: Sequence[Feature], models: Models, catalog_size: int) -> dict[str, Any]:
    rows = []
    for feature in features:
        lacking = missing(feature, models.models)
        rows.append(
            {
                "id": feature.id,
                "title": feature.title,
                "area": feature.area,
                "level": feature.level.value,
                "endpoint": feature.endpoint,
                "needs": list(feature.needs),
                "runs": not lacking,
                "missing": lacking,
            }
        )
    runs = sum(1 for row in rows if row["runs"])
    return {
        "models": dict(models.models),
        "embedded_mock": models.embedded_mock,
        "summary": {"catalog": catalog_size, "listed": len(rows), "runs": runs, "skipped": len(rows) - runs},
        "features": rows,
    }


def render_listing(document: Mapping[str, Any], source: str) -> str:
    """The listing as a plain-text table, with a header line saying which models it was judged with."""
    rows = document["features"]
    summary = document["summary"]
    header = ("FEATURE", "LEVEL", "AREA", "NEEDS", "RUNS")
    table = [
        (
            row["id"],
            row["level"],
            row["area"],
            ",".join(row["needs"]) or "-",
            "yes" if row["runs"] else f"no: no {', '.join(row['missing'])} model",
        )
        for row in rows
    ]
    widths = [max(len(str(line[i])) for line in [header, *table]) for i in range(len(header) - 1)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(line[:-1], widths, strict=True)) + "  " + line[-1]
        for line in [header, *table]
    ]
    models = ", ".join(f"{capability}={model}" for capability, model in document["models"].items()) or "none"
    of = f" of {summary['catalog']}" if summary["listed"] != summary["catalog"] else ""
    lines.append("")
    lines.append(
        f"{summary['listed']}{of} features: {summary['runs']} would run, {summary['skipped']} would be skipped "
        f"for a missing model ({source}: {models})"
    )
    return "\n".join(lines) + "\n"
