"""Deterministic content for the reference mock.

Everything is derived from a hash of the request (never from time or randomness), so the same
request always gets the same answer, streamed or not, and behavioural checks can be exact.
The mock's "tokenizer" is whitespace: one token per word, which keeps usage arithmetic exact.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import struct
from collections.abc import Iterator
from typing import Any

# Plain words, so that generated text reads like text and contains no stop-sequence surprises.
VOCABULARY = (
    "the quick brown fox jumps over lazy dog while seven bright stars shine above calm silver "
    "rivers near quiet green hills where gentle winds carry soft songs from distant old towns "
    "and every small bird finds warm light under tall oak trees before evening falls slowly"
).split()

MIN_WORDS = 8
MAX_WORDS = 15
_WORD = re.compile(r"\S+")


def fingerprint(value: Any) -> bytes:
    """A stable digest of any JSON-like value."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).digest()


def _stream_of_numbers(seed: bytes) -> Iterator[int]:
    counter = 0
    while True:
        block = hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        for offset in range(0, len(block), 4):
            yield int.from_bytes(block[offset : offset + 4], "big")
        counter += 1


def generate_tokens(seed: bytes, banned: frozenset[str] = frozenset()) -> list[str]:
    """8 to 15 tokens forming one sentence: 'Quick', ' silver', ..., ' hills.'

    ``banned`` words (logit_bias -100 in the mock's vocabulary) are never produced.
    """
    numbers = _stream_of_numbers(seed)
    allowed = [word for word in VOCABULARY if word not in banned] or list(VOCABULARY)
    length = MIN_WORDS + next(numbers) % (MAX_WORDS - MIN_WORDS + 1)
    words = [allowed[next(numbers) % len(allowed)] for _ in range(length)]
    words[0] = words[0].capitalize()
    words[-1] += "."
    return [words[0]] + [" " + word for word in words[1:]]


def count_tokens(text: str) -> int:
    return len(_WORD.findall(text))


def content_text(content: Any) -> str:
    """The text of a message's content: a string or an array of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    """3 tokens of framing per message plus its words, plus 3 to prime the reply (like OpenAI's)."""
    total = 3
    for message in messages:
        total += 3 + count_tokens(content_text(message.get("content")))
        if message.get("name"):
            total += 1
        for call in message.get("tool_calls") or ():
            total += count_tokens(json.dumps(call.get("function", {})))
    return total


def embedding_vector(text: str, dimensions: int) -> list[float]:
    """A unit vector derived from the text, as float32 values (what base64 can carry exactly)."""
    numbers = _stream_of_numbers(hashlib.sha256(text.encode()).digest())
    return normalised([((next(numbers) / 0xFFFFFFFF) * 2.0) - 1.0 for _ in range(dimensions)])


def normalised(vector: list[float]) -> list[float]:
    """Scale to unit length and round each value to float32."""
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [struct.unpack("<f", struct.pack("<f", v / norm))[0] for v in vector]
