"""GitHub Actions annotations: one ``::error`` workflow command per feature whose judgement fails the gate.

``conformance run`` prints them on stdout when ``GITHUB_ACTIONS=true`` (GitHub sets it in every job),
so each failing feature shows on the workflow run's page and in the PR, titled by its ID::

    ::error title=chat.stream.done_sentinel::nonconformant: the stream ends without data: [DONE]

What fails is the policy's judgement in the gate's reading (``policy.judgement_of``), as for the exit
code: the annotations are exactly ``gate.failures``, with the check's reason. The values are escaped
as GitHub's workflow commands require (``%``, CR and LF everywhere; ``:`` and ``,`` in properties).
"""

from __future__ import annotations

from typing import Any

from conformance.policy import judgement_of

MAX_MESSAGE = 1000  # GitHub shows the first lines of an annotation; a whole evidence dump helps no one


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render_annotations(results: dict[str, Any]) -> str:
    """One ``::error title=FEATURE::why: reason`` line per feature whose judgement fails the gate."""
    lines = []
    for feature_id, feature in results["features"].items():
        judgement = judgement_of(feature)
        if not judgement.disposition.fails_gate:
            continue
        reason = str(feature.get("reason") or "")
        message = f"{judgement.why}: {reason}" if reason and reason not in judgement.why else judgement.why
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        lines.append(f"::error title={_property(feature_id)}::{_data(message)}")
    return "".join(line + "\n" for line in lines)
