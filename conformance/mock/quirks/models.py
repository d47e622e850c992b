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
        "https://github.com/songquanpeng/one-api/issues/128, https://github.com/vllm-project/router/issues/134",
        Effects(models=lambda body: body["data"]),
        detects={"models.list": NONCONFORMANT},
    ),
    Quirk(
        "models.entry_fields_missing",
        "models",
        "Model objects carry only `id` and `object` (no `created`, no `owned_by`).",
        "https://github.com/webai-at-home/webai-at-home/issues/208, "
        "https://github.com/mistralai/client-python/issues/83",
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
        "https://github.com/madroidmaq/mlx-omni-server/issues/130, https://github.com/oobabooga/textgen/issues/4997",
        Effects(models=lambda body: {**body, "data": []}),
        # with nothing listed there is no vendor/model id to find either: that feature has nothing to judge
        detects={"models.list.includes_configured": NONCONFORMANT, "models.retrieve.slash_id": SKIPPED},
    ),
)
