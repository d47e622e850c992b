"""GET /fine_tuning/jobs, /assistants: the list routes of the management APIs the mock does not serve
further (files and batches have their own handlers).

Each answers a cursor page of sample objects: a sample assistant (OpenAI's spec requires
``first_id`` and ``last_id`` on that list, which an empty list cannot give); fine-tuning jobs are
listed empty.
"""

from __future__ import annotations

import re
from typing import Any

from conformance.capabilities import BY_NAME
from conformance.mock.handlers._shared import page
from conformance.mock.messages import Incoming, MockResponse
from conformance.mock.state import MockState

LISTED: dict[str, list[dict[str, Any]]] = {
    "assistants": [
        {
            "id": "asst_conformance_sample",
            "object": "assistant",
            "created_at": 1_700_000_000,
            "name": "Sample",
            "description": None,
            "model": BY_NAME["chat"].mock_model,
            "instructions": None,
            "tools": [],
            "metadata": {},
        }
    ],
    "fine_tuning/jobs": [],
}


async def list_objects(state: MockState, incoming: Incoming, match: re.Match[str]) -> MockResponse:
    """A cursor page of the sample objects of the route's ``kind``."""
    return page(LISTED[match.group("kind")], incoming)
