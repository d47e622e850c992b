"""GET /models quirks."""

from __future__ import annotations

from typing import Any

from conformance.mock.effects import Effects
from conformance.mock.quirks._model import NONCONFORMANT, SKIPPED, Quirk


def _strip_model_fields(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if k not in ("created", "owned_by")}


TABLE: tuple[Quirk, ...] = (
    Quirk(
        "models.not_list_envelope",
        "models",
        '`GET /models` returns a bare JSON array instead of `{"object": "list", "data": [...]}`.',
        "quirks-catalog models.not_list_envelope: songquanpeng/one-api#128, vllm-project/router#134",
        Effects(models=lambda body: body["data"]),
        detects={"models.list": NONCONFORMANT},
    ),
    Quirk(
        "models.entry_fields_missing",
        "models",
        "Model objects carry only `id` and `object` (no `created`, no `owned_by`).",
        "quirks-catalog models.entry_fields_missing_or_fake: webai-at-home/webai-at-home#208, "
        "mistralai/client-python#83",
        Effects(
            models=lambda body: {**body, "data": [_strip_model_fields(m) for m in body["data"]]},
            model=_strip_model_fields,
        ),
        detects={"models.list": NONCONFORMANT, "models.retrieve": NONCONFORMANT},
    ),
    Quirk(
        "models.list_incomplete",
        "models",
        "`GET /models` answers an empty list although the models work when named (load-on-demand servers).",
        "quirks-catalog models.no_capability_metadata; madroidmaq/mlx-omni-server#130, oobabooga/textgen#4997",
        Effects(models=lambda body: {**body, "data": []}),
        # with nothing listed there is no vendor/model id to find either: that feature has nothing to judge
        detects={"models.list.includes_configured": NONCONFORMANT, "models.retrieve.slash_id": SKIPPED},
    ),
)
