"""The models the mock serves, and the one rule for whether a request may name one.

A served model has one *kind* (``capabilities.KINDS``: chat, embeddings, images, transcription,
speech); an endpoint asks :meth:`ModelTable.require` for a model of its kind and gets either the
model or OpenAI's error: 404 for a model that does not exist, 400 ``param: model`` for one of
another kind, worded from ``capabilities.noun_for`` so the message names what the endpoint needed.
The default models come from the capability table, so a new kind brings its mock model with it.
Depends on ``conformance.capabilities`` and the mock's vocabulary only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass

from conformance.capabilities import BY_NAME, CAPABILITIES, KINDS, noun_for
from conformance.mock.messages import MockError, invalid_value, model_not_found

OWNER = "openai-conformance"


@dataclass(frozen=True)
class MockModel:
    id: str
    kind: str  # one of capabilities.KINDS
    context_window: int = 8192
    # answers every request with 429 and OpenAI's rate-limit headers: how the suite provokes a 429
    rate_limited: bool = False
    # a fine-tuned model the caller's organisation owns: DELETE /models/{id} removes it (others: 403)
    owner: str = OWNER
    deletable: bool = False


def _default_model(kind: str) -> MockModel:
    """The mock's model of a kind: the model the first capability of that kind names."""
    return MockModel(next(c.mock_model for c in CAPABILITIES if c.kind == kind), kind)


_ONE_PER_KIND = tuple(_default_model(kind) for kind in KINDS)
DEFAULT_MODELS: tuple[MockModel, ...] = (
    # GET /models has always listed chat and embeddings first, then these two, then the newer kinds:
    # the example reports show that order, so it is kept
    *_ONE_PER_KIND[:2],
    # a vendor-style id with a slash (seeds 000, 001): the 3.x SDK percent-encodes it in paths
    MockModel("mock-org/mock-chat", "chat"),
    MockModel(BY_NAME["rate_limited"].mock_model, BY_NAME["rate_limited"].kind, rate_limited=True),
    *_ONE_PER_KIND[2:],
)


class ModelTable(MutableMapping[str, MockModel]):
    """The models one mock instance serves, by id, in the order GET /models lists them.

    A mapping so that a test harness can add a model (and DELETE /models/{id} remove one) while
    the server runs.
    """

    def __init__(self, models: Iterable[MockModel]) -> None:
        self._models = {model.id: model for model in models}

    def named(self, name: str) -> MockModel:
        """The model called ``name``, whatever its kind; 404 ``model_not_found`` if there is none."""
        model = self._models.get(name)
        if model is None:
            raise MockError(model_not_found(name))
        return model

    def require(self, name: str, kind: str) -> MockModel:
        """The model called ``name``, which must be of ``kind``: what an endpoint asks before serving."""
        model = self.named(name)
        if model.kind != kind:
            raise MockError(
                invalid_value("model", f"The model `{name}` is not {noun_for(kind)}.", "model_not_supported")
            )
        return model

    def __getitem__(self, name: str) -> MockModel:
        return self._models[name]

    def __setitem__(self, name: str, model: MockModel) -> None:
        self._models[name] = model

    def __delitem__(self, name: str) -> None:
        del self._models[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._models)

    def __len__(self) -> int:
        return len(self._models)
