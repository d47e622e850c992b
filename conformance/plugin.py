"""The pytest plugin: the checks as pytest tests, for a vendor's own CI.

    pytest --pyargs conformance.checks --conformance-base-url URL --conformance-model NAME

Registered as a ``pytest11`` entry point, so installing the package is enough, and so pytest imports
this module in *every* session of that environment, conformance checks or not. It therefore imports
pytest and the capability table only: the engine, the SDK, the catalog and the mock
(:mod:`conformance.plugin_session`) are imported when a session uses the checks, that is when a
``--conformance-*`` option or its ini key is set, or the checks directory is collected.
``python bench/plugin_import.py`` measures what an unrelated session pays.

Every ``--conformance-X`` option is also an ini key ``conformance_X`` (``pytest.ini``,
``[tool.pytest.ini_options]``, ``tox.ini``, ``setup.cfg``); the command line wins, and a relative path
in the ini file is read from the ini file's directory. Repeatable options (``--conformance-header``,
``--conformance-query``, ``--conformance-mock-quirk``) take one value per line there.

Each check becomes one test item named by its feature ID (``-k`` selects), marked with its level
(``-m required``) and its area (``-m area_chat``); its pytest outcome maps the policy's judgement
exactly as ``conformance run``'s exit code and JUnit do (:mod:`conformance.plugin_session`).
``--conformance-config`` brings the target file's claims and known failures; ``--conformance-out DIR``
writes the same reports as ``conformance run``; ``--conformance-gate strict`` judges the strict
reading; ``--conformance-max-requests`` / ``--conformance-max-completion-tokens`` are ``conformance
run``'s budget. Without a base URL the embedded reference mock is used.

Under pytest-xdist the checks stay one run: the controller hands them all to one worker, as one
work unit in run order (the session's other tests are distributed as ``--dist`` says), because
shared requests, run-wide features and the budget belong to one engine
(:class:`conformance.plugin_session.OneWorker`).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.capabilities import CAPABILITIES

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
CHECKS_PACKAGE = "conformance.checks"
# the readings the gate may judge (conformance.policy.Reading: a test holds them equal)
GATE_CHOICES = ("compatible", "strict")
_SESSION = pytest.StashKey[Any]()  # the ConformanceSession, once a session uses the checks
# what this module hands on from conformance.plugin_session, imported on first use (PEP 562)
_LAZY = frozenset({"ConformanceSession", "ChecksFile", "CheckItem", "CheckFailed", "HarnessError", "report_judgement"})


@dataclass(frozen=True)
class Option:
    """One ``--conformance-X`` option and its ini key ``conformance_X``."""

    name: str  # "base-url": the option --conformance-base-url, the ini key conformance_base_url
    help: str
    kind: str = "str"  # str | path | float | int | list | bool | choice
    choices: tuple[str, ...] = ()
    minimum: int | None = None  # an int option's least value, as conformance run checks its flag

    @property
    def flag(self) -> str:
        return f"--conformance-{self.name}"

    @property
    def dest(self) -> str:
        return "conformance_" + self.name.replace("-", "_")

    @property
    def key(self) -> str:  # the settings key the session reads
        return self.name.replace("-", "_")


OPTIONS: tuple[Option, ...] = (
    Option("base-url", "target base URL (env OPENAI_BASE_URL); default: the embedded mock"),
    Option("api-key", "target API key (env OPENAI_API_KEY)"),
    *(Option(capability.option, capability.help) for capability in CAPABILITIES),
    Option("config", "target YAML file (models, claims, known failures, headers...)", "path"),
    Option("out", "write results.json, matrix.md, junit.xml and report.html here", "path"),
    Option("timeout", "read timeout in seconds (default 20)", "float"),
    Option("mock-profile", "with the embedded mock: behave as a documented vendor"),
    Option("mock-seed", "with the embedded mock: seed its model-like behaviour (profile chatty)", "int"),
    Option("mock-quirk", "with the embedded mock: switch on a named quirk (repeatable)", "list"),
    Option(
        "trials",
        "at most N requests where sampling decides what a check can judge (as conformance run --trials; default 3)",
        "int",
    ),
    Option(
        "gate",
        "the reading that decides each test's outcome: compatible (default) or strict",
        "choice",
        GATE_CHOICES,
    ),
    Option("header", "send this header ('Name: value') with every request (repeatable)", "list"),
    Option("query", "add this query parameter (name=value) to every request (repeatable)", "list"),
    Option("ca-bundle", "trust the CAs in this PEM file (a staging endpoint)", "path"),
    Option("insecure", "do not verify the server's TLS certificate (staging only)", "bool"),
    Option("name", "the target's name in the reports"),
    Option(
        "max-requests",
        "send at most N requests in all (as conformance run --max-requests; under xdist too): a feature "
        "whose plan, measured on the reference mock, exceeds what remains is skipped",
        "int",
        minimum=1,
    ),
    Option(
        "max-completion-tokens",
        "request at most N completion tokens in all (as conformance run --max-completion-tokens)",
        "int",
        minimum=0,
    ),
)
MODEL_OPTIONS = {capability.name: capability.option for capability in CAPABILITIES}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "openai-conformance checks")
    for option in OPTIONS:
        if option.kind == "list":
            group.addoption(option.flag, action="append", default=[], help=option.help)
        elif option.kind == "bool":
            group.addoption(option.flag, action="store_true", default=False, help=option.help)
        else:
            convert = {"path": Path, "float": float, "int": _integer(option.minimum)}.get(option.kind)
            extra: dict[str, Any] = {"type": convert} if convert else {}
            if option.choices:
                extra["choices"] = list(option.choices)
            group.addoption(option.flag, default=None, help=option.help, **extra)
    for option in OPTIONS:
        ini_type = {"list": "linelist", "bool": "bool"}.get(option.kind, "string")
        parser.addini(option.dest, f"{option.help} (as {option.flag})", type=ini_type)  # type: ignore[arg-type]


def settings(config: pytest.Config) -> dict[str, Any]:
    """Every option's value: the command line's, else the ini file's, else unset (None, [], False)."""
    resolved: dict[str, Any] = {}
    for option in OPTIONS:
        value = config.getoption(option.dest)
        if value in (None, [], False):
            value = _from_ini(config, option)
        resolved[option.key] = value
    resolved["models"] = {
        capability: resolved.pop(name.replace("-", "_")) for capability, name in MODEL_OPTIONS.items()
    }
    return resolved


def _from_ini(config: pytest.Config, option: Option) -> Any:
    try:
        raw = config.getini(option.dest)
    except ValueError:
        return None
    if option.kind == "list":
        return [line for line in (raw or []) if line.strip()]
    if option.kind == "bool":
        return bool(raw)
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        if option.kind == "path":
            path = Path(text).expanduser()
            return path if path.is_absolute() else _ini_dir(config) / path
        if option.kind == "float":
            return float(text)
        if option.kind == "int":
            value = int(text)
            if option.minimum is not None and value < option.minimum:
                raise pytest.UsageError(f"{option.dest} = {text}: must be at least {option.minimum}")
            return value
    except ValueError:
        raise pytest.UsageError(f"{option.dest} = {text}: expected a {option.kind}") from None
    if option.choices and text not in option.choices:
        raise pytest.UsageError(f"{option.dest} = {text}: choose from {', '.join(option.choices)}")
    return text


def _integer(minimum: int | None) -> Any:
    """The command line's converter of an int option: a usage error below ``minimum``."""

    def convert(text: str) -> int:
        value = int(text)  # a ValueError: argparse says "invalid value"
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    convert.__name__ = "int"  # argparse names the type in its "invalid int value" message
    return convert


def _ini_dir(config: pytest.Config) -> Path:
    return config.inipath.parent if config.inipath is not None else config.rootpath


def _in_use(config: pytest.Config, resolved: dict[str, Any]) -> bool:
    """Whether this session uses the checks: an option or ini key set, or the checks named as arguments."""
    if any(value not in (None, [], False) for key, value in resolved.items() if key != "models"):
        return True
    if any(resolved["models"].values()):
        return True
    pyargs = bool(config.getoption("pyargs", False))
    for arg in config.args:
        name = str(arg).split("::")[0]
        if pyargs and (name == CHECKS_PACKAGE or name.startswith(CHECKS_PACKAGE + ".")):
            return True
        try:
            path = Path(name).resolve()
        except (OSError, ValueError):
            continue
        if path == CHECKS_DIR or CHECKS_DIR in path.parents:
            return True
    return False


def _session(config: pytest.Config) -> Any:
    """The session's ConformanceSession, made (and the engine side imported) on first use."""
    existing = config.stash.get(_SESSION, None)
    if existing is None:
        from conformance.plugin_session import ConformanceSession

        existing = config.stash[_SESSION] = ConformanceSession(config, settings(config))
    return existing


def pytest_configure(config: pytest.Config) -> None:
    if _in_use(config, settings(config)):
        checks = _session(config)  # now: a bad target file is a usage error before collection
        if _distributes(config):
            checks.keep_on_one_worker()  # before any worker starts


def _distributes(config: pytest.Config) -> bool:
    """Whether this is pytest-xdist's controller, about to hand the session's tests to workers."""
    option = config.option
    return (
        not hasattr(config, "workerinput")
        and getattr(option, "dist", "no") != "no"
        and bool(getattr(option, "tx", None))
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.finish()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    session = config.stash.get(_SESSION, None)
    if session is not None:
        session.sort_items(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    checks = session.config.stash.get(_SESSION, None)
    if checks is not None:
        checks.collection_finished(session.items)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix == ".py" and file_path.parent == CHECKS_DIR and not file_path.name.startswith("_"):
        collector: pytest.Collector = _session(parent.config).checks_file(parent, file_path)
        return collector
    return None


def __getattr__(name: str) -> Any:
    """The engine side's names (``CheckItem``, ``report_judgement``...), imported when first asked for."""
    if name in _LAZY:
        from conformance import plugin_session

        return getattr(plugin_session, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
