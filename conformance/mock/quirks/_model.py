"""What a quirk is: a named, sourced deviation, its effects, and the verdicts that must detect it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from conformance.mock.effects import Effects

NONCONFORMANT = "nonconformant"
UNSUPPORTED = "unsupported"
SKIPPED = "skipped"  # a quirk that takes away what a feature needs (and is reported, never passed)


@dataclass(frozen=True)
class Quirk:
    id: str
    area: str
    description: str
    source: str
    effects: Effects
    # feature id -> the verdict it must take with this quirk on (every other feature: unchanged)
    detects: Mapping[str, str] = field(default_factory=dict)
    # the strict reading (OpenAI's published schemas): feature id -> the verdict it must take there with
    # this quirk on, beyond ``detects`` (a quirk benign for the compatible reading, which the schemas forbid)
    detects_strict: Mapping[str, str] = field(default_factory=dict)
    # benign quirks: feature id -> text its notes must mention (the deviation is reported, not failed)
    notes: Mapping[str, str] = field(default_factory=dict)
    # a test harness's assumption rather than a vendor's bug (openai-python's generated tests assume a
    # Prism-like server): it must change no verdict, and no check need notice it
    harness: bool = False
    # the model's choice, not the server's (quirks/model_behaviour.py): what a sampling model does some
    # of the time; it must change no verdict, and a check notes it only when a draw shows it
    model: bool = False

    @property
    def benign(self) -> bool:
        return not self.detects


def detected(*groups: Iterable[str], verdict: str = NONCONFORMANT) -> dict[str, str]:
    """Every feature of the given groups, with one verdict."""
    return {feature: verdict for group in groups for feature in group}
