"""What a check gets to work with: the target, the raw client, the SDK, shared requests, and a
read-only view of what the run met.

A check never builds evidence or classifies transport errors itself. It calls the SDK through
:meth:`CheckContext.call_sdk` and the raw client through :attr:`CheckContext.wire`; whatever the
server does (an error status, a stall, a body the SDK chokes on) becomes a typed exception that
the engine turns into the right verdict. It never reads the recorder either: what the run met
(every 429, every redirect) it reads through :attr:`CheckContext.observed`, and requests several
features judge are declared once, in ``checks/_requests.py``, and memoized here.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import openai

from conformance import sdk as sdk_module
from conformance.catalog import Feature
from conformance.cost import Spend
from conformance.envelope import DeclineParam, ErrorBody, decode_error_body
from conformance.target import Target
from conformance.verdict import Oracle, StopCheck, nonconformant
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


# A request several features judge: a function of the context, sent once per run.
SharedRequest = Callable[["CheckContext"], Any]


@dataclass
class RunState:
    """Shared across the checks of one run: the shared requests' answers, and the SDK clients."""

    # keyed by the shared request's function itself, like a session-scoped fixture
    memo: dict[SharedRequest, tuple[Any, BaseException | None, list[RecordedExchange]]] = field(default_factory=dict)
    clients: dict[tuple[Any, ...], openai.OpenAI] = field(default_factory=dict)
    # one-off clients (another key, headers): closed with the run, not left to the garbage collector
    one_off_clients: list[openai.OpenAI] = field(default_factory=list)
    # checks run on several threads: one lock per shared request (the first caller sends it, the
    # others wait for its answer), and one for the tables above
    locks: dict[SharedRequest, threading.RLock] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # the run's deadline (a ``time.monotonic()`` instant; None: none): a check that waits for the
    # server (a batch to finish) waits no longer than this
    deadline_at: float | None = None

    def lock_for(self, send: SharedRequest) -> threading.RLock:
        with self.lock:
            return self.locks.setdefault(send, threading.RLock())


class Observed:
    """What the run has met so far, read-only: features that judge the whole run read it here.

    Each property is a snapshot (a tuple); the recorder's own lists are never handed out.
    """

    def __init__(self, recorder: Recorder, scope: list[RecordedExchange]) -> None:
        self._recorder = recorder
        self._scope = scope

    @property
    def rate_limits(self) -> tuple[RecordedExchange, ...]:
        """Every 429 the run met, whoever sent the request (before any back-off retry)."""
        return tuple(self._recorder.rate_limit_responses)

    @property
    def redirects(self) -> tuple[RecordedExchange, ...]:
        """Every 3xx the run met, through the SDK or the raw client."""
        return tuple(self._recorder.redirects)

    @property
    def key_withheld(self) -> tuple[str, ...]:
        """Origins the suite withheld the API key from (a request bound there carried it)."""
        return tuple(self._recorder.key_withheld)

    @property
    def exchanges_so_far(self) -> Sequence[RecordedExchange]:
        """This check's own exchanges so far, in order (a shared request's, when it sent one)."""
        return tuple(self._scope)


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
        self.wire = wire
        self.observed = Observed(recorder, scope)
        self._recorder = recorder
        self._state = state
        self._scope = scope
        self._borrowed: list[RecordedExchange] = []
        # what this check may send beyond a first answer that decides (more trials, the budget retry),
        # against a server that makes it repeat: ``conformance plan`` prints it (``may_repeat``)
        self.headroom = Spend()
        # requests of shared ones this check waited for while another feature sent them (its chain)
        self.waited = 0

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

    @property
    def seconds_left(self) -> float | None:
        """How long the run may still take (``--deadline``); None when it has no deadline."""
        at = self._state.deadline_at
        return None if at is None else max(at - time.monotonic(), 0.0)

    @property
    def trials(self) -> int:
        """How many requests a check may send where sampling decides its outcome (``--trials``)."""
        return max(1, self.target.trials)

    # --- the SDK ---------------------------------------------------------------------------
    def sdk(self, *, strict: bool = True) -> openai.OpenAI:
        """The SDK client: ``strict`` validates responses (an oracle), lax is what users run."""
        key = ("default", strict)
        with self._state.lock:
            if key not in self._state.clients:
                self._state.clients[key] = sdk_module.make_client(self.target, self._recorder, strict=strict)
            return self._state.clients[key]

    def sdk_with(self, *, strict: bool = False, **overrides: Any) -> openai.OpenAI:
        """A one-off SDK client (another key, base URL, headers), closed when the run ends."""
        client = sdk_module.make_client(self.target, self._recorder, strict=strict, **overrides)
        with self._state.lock:
            self._state.one_off_clients.append(client)
        return client

    def call_sdk(self, call: Callable[[], T], *, decline_param: DeclineParam = None) -> T:
        """Run an SDK call; turn whatever goes wrong into the matching typed exception."""
        try:
            return call()
        except openai.APIStatusError as exc:
            raise StatusError(self._error_body(exc), decline_param) from exc
        except openai.APIResponseValidationError as exc:
            raise StopCheck(
                nonconformant(f"strict SDK validation rejected the response: {_validation_summary(exc)}", Oracle.SDK)
            ) from exc
        except (openai.APIConnectionError, TransportFailure) as exc:
            raise self._transport(exc) from exc
        except openai.APIError as exc:
            # An error event inside a 200 stream (the SDK raises the base APIError).
            raise StopCheck(
                nonconformant(
                    f"the SDK raised {sdk_module.describe_exception(exc)} while reading the response", Oracle.SDK
                )
            ) from exc
        except (StopCheck, StatusError, TransportProblem):
            raise
        except Exception as exc:
            failure = transport_failure_in(exc, self._recorder)
            if failure is not None and self._scope and self._scope[-1].failure is failure:
                raise TransportProblem(failure) from exc
            if _raised_inside_sdk(exc):
                raise StopCheck(
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
        for exchange in reversed(self._scope):
            if exchange.status is not None:
                return exchange
        return None

    def _transport(self, exc: BaseException) -> TransportProblem:
        failure = transport_failure_in(exc, self._recorder)
        if failure is None:
            # the SDK says "Connection error." and keeps what happened as the cause: say both
            cause = f" ({type(exc.__cause__).__name__}: {exc.__cause__})" if exc.__cause__ is not None else ""
            failure = TransportFailure("protocol", f"{type(exc).__name__}: {exc}{cause}")
        return TransportProblem(failure)

    # --- raw HTTP --------------------------------------------------------------------------
    def require_ok(self, response: WireResponse, *, decline_param: DeclineParam = None) -> WireResponse:
        """A raw response that must be a success; an error status becomes a StatusError."""
        if response.status >= 300:
            raise StatusError(decode_error_body(response.status, response.content_type, response.body), decline_param)
        return response

    def aside(self, response: WireResponse, why: str) -> None:
        """``response`` was read only for a note: its answer, an error included, decides nothing about
        the feature. The evidence says so on the exchange, and the run's root causes pass it by (an
        error there is not what the feature failed for)."""
        self._recorder.note(response.exchange, f"read only for a note ({why}): it judges nothing")

    def may_repeat(self, extra: Spend) -> None:
        """This check could send ``extra`` more against a server that makes it repeat (``_common.run_trials``)."""
        self.headroom = self.headroom + extra

    # --- requests shared by several features ------------------------------------------------
    def shared(self, send: Callable[[CheckContext], T]) -> T:
        """``send(self)`` once per run, memoized by the function itself; later callers get the same
        answer (or the same exception) and cite its exchanges as evidence (cost matters).

        Declare shared requests with ``checks._requests.shared_request``, not by calling this.
        """
        memo = self._state.memo
        with self._state.lock_for(send):  # another feature sending it now: wait for its answer
            if send not in memo:
                start, cited = len(self._scope), len(self._borrowed)
                value: Any = None
                error: BaseException | None = None
                try:
                    value = send(self)
                except (StatusError, TransportProblem, TransportFailure, StopCheck) as exc:
                    error = exc
                # its evidence: what it sent, and what the shared requests it built on had sent
                memo[send] = (value, error, [*self._borrowed[cited:], *self._scope[start:]])
            else:
                self.cite(memo[send][2])
                self.waited = max(self.waited, len(memo[send][2]))
            value, error, _ = memo[send]
        if error is not None:
            raise error
        return value

    def cite(self, exchanges: Iterable[RecordedExchange]) -> None:
        """Make exchanges from elsewhere in the run (a 429, a redirect) part of this verdict's evidence."""
        self._borrowed.extend(e for e in exchanges if e not in self._borrowed and e not in self._scope)

    @property
    def cited(self) -> list[RecordedExchange]:
        """The exchanges from elsewhere in the run this check cited (a shared request another sent)."""
        return list(self._borrowed)

    def exchanges(self) -> list[RecordedExchange]:
        """This verdict's evidence: the exchanges cited, then the check's own."""
        return self._borrowed + self._scope


def _validation_summary(exc: openai.APIResponseValidationError) -> str:
    cause = exc.__cause__
    errors = getattr(cause, "errors", None)
    if callable(errors):
        parts = []
        for item in _matching_union_member(errors())[:4]:
            loc = ".".join(str(p) for p in item.get("loc", ()))
            parts.append(f"{loc}: {item.get('msg')}")
        return "; ".join(parts)
    return str(cause or exc)


def _matching_union_member(errors: list[Any]) -> list[Any]:
    """A stream event fails against every member of the SDK's event union; the members whose ``type``
    literal it does not match say nothing about it, so only the member its ``type`` names is shown."""
    mismatched = {
        item["loc"][0]
        for item in errors
        if len(item.get("loc", ())) == 2 and item["loc"][1] == "type" and item.get("type") == "literal_error"
    }
    kept = [item for item in errors if not item.get("loc") or item["loc"][0] not in mismatched]
    return kept or errors


def _raised_inside_sdk(exc: BaseException) -> bool:
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.startswith(_SDK_DIR):
            return True
    return False
