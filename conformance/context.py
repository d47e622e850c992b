"""What a check gets to work with: the target, the raw client, the SDK, shared requests.

A check never builds evidence or classifies transport errors itself. It calls the SDK through
:meth:`CheckContext.call_sdk` and the raw client through :attr:`CheckContext.wire`; whatever the
server does (an error status, a stall, a body the SDK chokes on) becomes a typed exception that
the engine turns into the right verdict.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import openai

from conformance import sdk as sdk_module
from conformance.catalog import Feature
from conformance.envelope import DeclineParam, ErrorBody, decode_error_body
from conformance.target import Target
from conformance.verdict import Oracle, Verdict, nonconformant
from conformance.wire import (
    RecordedExchange,
    Recorder,
    TransportFailure,
    WireClient,
    WireResponse,
    transport_failure_in,
)

T = TypeVar("T")

_SDK_DIR = os.path.dirname(openai.__file__)


class StatusError(Exception):
    """The server answered an error status where the check expected success."""

    def __init__(self, body: ErrorBody, decline_param: DeclineParam = None) -> None:
        super().__init__(body.summary())
        self.body = body
        self.decline_param = decline_param


class TransportProblem(Exception):
    def __init__(self, failure: TransportFailure) -> None:
        super().__init__(str(failure))
        self.failure = failure


@dataclass
class RunState:
    """Shared across the checks of one run."""

    memo: dict[str, tuple[Any, BaseException | None, list[RecordedExchange]]] = field(default_factory=dict)
    clients: dict[tuple[Any, ...], openai.OpenAI] = field(default_factory=dict)


class CheckContext:
    def __init__(
        self,
        feature: Feature,
        target: Target,
        recorder: Recorder,
        wire: WireClient,
        state: RunState,
        scope: list[RecordedExchange],
    ) -> None:
        self.feature = feature
        self.target = target
        self.recorder = recorder
        self.wire = wire
        self.state = state
        self.scope = scope
        self.borrowed: list[RecordedExchange] = []

    # --- models --------------------------------------------------------------------------
    @property
    def chat_model(self) -> str:
        return self.target.models["chat"]

    @property
    def embedding_model(self) -> str:
        return self.target.models["embeddings"]

    @property
    def tools_model(self) -> str:
        return self.target.models.get("tools") or self.chat_model

    @property
    def vision_model(self) -> str:
        return self.target.models["vision"]

    # --- the SDK ---------------------------------------------------------------------------
    def sdk(self, *, strict: bool = True) -> openai.OpenAI:
        """The SDK client: ``strict`` validates responses (an oracle), lax is what users run."""
        key = ("default", strict)
        if key not in self.state.clients:
            self.state.clients[key] = sdk_module.make_client(self.target, self.recorder, strict=strict)
        return self.state.clients[key]

    def sdk_with(self, *, strict: bool = False, **overrides: Any) -> openai.OpenAI:
        """A one-off SDK client (another key, base URL, headers)."""
        return sdk_module.make_client(self.target, self.recorder, strict=strict, **overrides)

    def call_sdk(self, call: Callable[[], T], *, decline_param: DeclineParam = None) -> T:
        """Run an SDK call; turn whatever goes wrong into the matching typed exception."""
        try:
            return call()
        except openai.APIStatusError as exc:
            raise StatusError(self._error_body(exc), decline_param) from exc
        except openai.APIResponseValidationError as exc:
            raise Verdict(
                nonconformant(f"strict SDK validation rejected the response: {_validation_summary(exc)}", Oracle.SDK)
            ) from exc
        except (openai.APIConnectionError, TransportFailure) as exc:
            raise self._transport(exc) from exc
        except openai.APIError as exc:
            # An error event inside a 200 stream (the SDK raises the base APIError).
            raise Verdict(
                nonconformant(
                    f"the SDK raised {sdk_module.describe_exception(exc)} while reading the response", Oracle.SDK
                )
            ) from exc
        except (Verdict, StatusError, TransportProblem):
            raise
        except Exception as exc:
            failure = transport_failure_in(exc, self.recorder)
            if failure is not None and self.scope and self.scope[-1].failure is failure:
                raise TransportProblem(failure) from exc
            if _raised_inside_sdk(exc):
                raise Verdict(
                    nonconformant(
                        f"the SDK raised {sdk_module.describe_exception(exc)} on this response "
                        "(not an openai error: user code crashes here)",
                        Oracle.SDK,
                    )
                ) from exc
            raise

    def _error_body(self, exc: openai.APIStatusError) -> ErrorBody:
        exchange = self._last_response()
        if exchange is not None:
            return decode_error_body(
                exchange.status or exc.status_code, exchange.response_header("content-type") or "", exchange.content()
            )
        return decode_error_body(exc.status_code, exc.response.headers.get("content-type", ""), exc.response.content)

    def _last_response(self) -> RecordedExchange | None:
        for exchange in reversed(self.scope):
            if exchange.status is not None:
                return exchange
        return None

    def _transport(self, exc: BaseException) -> TransportProblem:
        failure = transport_failure_in(exc, self.recorder)
        if failure is None:
            failure = TransportFailure("protocol", f"{type(exc).__name__}: {exc}")
        return TransportProblem(failure)

    # --- raw HTTP --------------------------------------------------------------------------
    def require_ok(self, response: WireResponse, *, decline_param: DeclineParam = None) -> WireResponse:
        """A raw response that must be a success; an error status becomes a StatusError."""
        if response.status >= 300:
            raise StatusError(decode_error_body(response.status, response.content_type, response.body), decline_param)
        return response

    # --- requests shared by several features ------------------------------------------------
    def shared(self, key: str, factory: Callable[[], T]) -> T:
        """Send a request once per run and let several features judge it (cost matters)."""
        if key not in self.state.memo:
            start = len(self.scope)
            value: Any = None
            error: BaseException | None = None
            try:
                value = factory()
            except (StatusError, TransportProblem, TransportFailure, Verdict) as exc:
                error = exc
            self.state.memo[key] = (value, error, list(self.scope[start:]))
        else:
            self.cite(self.state.memo[key][2])
        value, error, _ = self.state.memo[key]
        if error is not None:
            raise error
        return value

    def cite(self, exchanges: Iterable[RecordedExchange]) -> None:
        """Make exchanges from elsewhere in the run (a 429, a redirect) part of this verdict's evidence."""
        self.borrowed.extend(e for e in exchanges if e not in self.borrowed and e not in self.scope)

    def exchanges(self) -> list[RecordedExchange]:
        return self.borrowed + self.scope


def _validation_summary(exc: openai.APIResponseValidationError) -> str:
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):
        parts = []
        for item in errors()[:4]:
            loc = ".".join(str(p) for p in item.get("loc", ()))
            parts.append(f"{loc}: {item.get('msg')}")
        return "; ".join(parts)
    return str(cause or exc)


def _raised_inside_sdk(exc: BaseException) -> bool:
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.startswith(_SDK_DIR):
            return True
    return False
