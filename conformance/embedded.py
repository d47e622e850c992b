"""The embedded reference mock as a target: the one way the CLI, the pytest plugin, the tests and the
benchmarks get one.

A run with no base URL anywhere (flags, target file, ``OPENAI_BASE_URL``) is a run against the
reference mock, started on a free loopback port with a fresh random key and stopped when the run
ends. Quirks and vendor profiles switch on documented deviations (``conformance mock
--list-quirks`` / ``--list-profiles``); model flags override the models the mock (or the profile)
would configure. Depends on the target vocabulary, the capability table and the mock.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from conformance.target import ConfigError, Secret, Target, Timeouts


@contextmanager
def embedded_target(
    *,
    quirks: Sequence[str] = (),
    profile: str | None = None,
    timeouts: Timeouts | None = None,
    models: Mapping[str, str | None] | None = None,
    seed: int | None = None,
    latency_ms: int = 0,
) -> Iterator[Target]:
    """Start the reference mock (with these quirks, or as this vendor profile) and yield it as a target.

    ``seed`` seeds the mock's sampled, model-like behaviour (the ``chatty`` profile, the ``model.*``
    quirks): the same seed gives the same run; it changes nothing else. ``latency_ms`` delays every
    response's head by that long, as a real server's time to first byte (0: none). An unknown quirk
    or profile is a :class:`ConfigError`, as any other configuration mistake.
    """
    from conformance.mock.profiles import UnknownProfile
    from conformance.mock.quirks import UnknownQuirk
    from conformance.mock.server import MockServer

    key = "mock-" + secrets.token_hex(12)
    try:
        server = MockServer(quirks=list(quirks), api_key=key, profile=profile, seed=seed or 0, latency_ms=latency_ms)
    except (UnknownQuirk, UnknownProfile) as error:
        raise ConfigError(str(error.args[0])) from None
    except ValueError as error:  # a negative latency
        raise ConfigError(str(error)) from None
    with server:
        chosen = {
            **server.target_models,
            **{capability: model for capability, model in (models or {}).items() if model},
        }
        name = f"{server.profile.vendor} (reference mock profile)" if server.profile else "reference mock"
        if quirks:
            name += f" with {', '.join(quirks)}"
        if seed is not None:
            name += f", mock seed {seed}"
        if latency_ms:
            name += f", {latency_ms} ms latency"
        yield Target(
            server.base_url, Secret(key), chosen, name=name, timeouts=timeouts or Timeouts(), embedded_mock=True
        )
