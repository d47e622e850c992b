"""What the project knows about the pinned openai SDK, in one package.

    types.py     the SDK's types by the names the catalog uses (ROOTS), the status-to-exception
                 table, the JSON Schema of a type
    client.py    the installed SDK's version, the client factory, exceptions as a user reads them
    oracle.py    the schema oracle: a response validated against the SDK's models
    paths.py     the catalog's field paths (``Type.field[].sub``): parsed and walked once, over a
                 TypeGraph
    live.py      the installed SDK's classes as a TypeGraph (``conformance coverage``)
    surface/     a stored surface as a TypeGraph: extract, diff, render (``conformance sdk``)
    coverage.py  which fields of the chat and Responses types the catalog exercises, and why the
                 others not

A pin bump, or a change to the path grammar, lands here. The names below are what the rest of the
project imports from ``conformance.sdk``. Those of :mod:`~conformance.sdk.client` load on first
use: it imports the SDK and the wire layer, which a module that needs only the status table
(``conformance.envelope``) should not pay for.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from conformance.sdk.types import STATUS_EXCEPTIONS, exception_name_for_status

if TYPE_CHECKING:
    from conformance.sdk.client import (
        PINNED_VERSION,
        SDK_PACKAGE,
        SDK_VERSION,
        describe_exception,
        exception_class_for_status,
        http_module,
        load_resources,
        make_client,
    )

__all__ = [
    "PINNED_VERSION",
    "SDK_PACKAGE",
    "SDK_VERSION",
    "STATUS_EXCEPTIONS",
    "describe_exception",
    "exception_class_for_status",
    "exception_name_for_status",
    "http_module",
    "load_resources",
    "make_client",
]


def __getattr__(name: str) -> object:
    if name in __all__:  # a name of the client module: the others are bound above
        return getattr(importlib.import_module("conformance.sdk.client"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
