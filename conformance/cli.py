"""The command line (contract: docs/contracts.md#cli). Nothing imports this module."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TextIO

from conformance import TOOL_NAME, __version__, planning
from conformance.bounds import DEFAULT_CONCURRENCY, DEFAULT_DEADLINE_S
from conformance.capabilities import CAPABILITIES
from conformance.catalog import Catalog, Feature, load_catalog
from conformance.cost import Spend
from conformance.document import build_results
from conformance.embedded import embedded_target
from conformance.engine import NOT_DECIDED, NOT_RUN, Engine, FeatureResult, RunResult
from conformance.expectations import load_expectations
from conformance.policy import Disposition, Reading, Selection, gate_of, judge_feature
from conformance.preflight import NoAnswer, Stopped, preflight
from conformance.report import write_reports
from conformance.report.console import render_summary, wants_colour
from conformance.target import (
    DEFAULT_TRIALS,
    ConfigError,
    Target,
    TargetEntry,
    TargetOptions,
    Timeouts,
    check_target_entry,
    lists_several_targets,
    read_config,
    resolve_target,
    select_targets,
    target_entries,
    target_options,
    with_trials,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# 128 + the signal, as a shell reports a process the signal ended (docs/contracts.md#cli): Ctrl-C
# (SIGINT) and a reader that went away (SIGPIPE: `conformance coverage | head`)
EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 130, 141
MAX_TIMEOUT_S = 86_400.0  # a day; above ~1e10 s the socket layer itself refuses the value


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error is one line on stderr (exit 2), like every other mistake."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _seconds(text: str) -> float:
    """A duration option: a finite number of seconds above 0 (nan, inf and -1 would reach the sockets)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (0 < value <= MAX_TIMEOUT_S):  # False for nan too
        raise argparse.ArgumentTypeError(f"must be above 0 and at most {MAX_TIMEOUT_S:g} seconds, got {text}")
    return value


def _integer(text: str, low: int | None = None, high: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = f"from {low} to {high}" if low is not None and high is not None else f"at least {low}"
        raise argparse.ArgumentTypeError(f"must be {bounds}, got {value}")
    return value


def _deadline(text: str) -> float:
    """A whole run's time limit in seconds (--deadline): above 0, and finite."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (0 < value < float("inf")):  # False for nan too
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return value


def _count(text: str) -> int:
    """A positive count (--trials)."""
    return _integer(text, low=1)


def _port(text: str) -> int:
    """A TCP port; 0 asks the system for a free one."""
    return _integer(text, low=0, high=65_535)


def _seed(text: str) -> int:
    """A seed of the mock's sampled behaviour: any whole number (Python's random accepts all)."""
    return _integer(text)


def _latency_ms(text: str) -> int:
    """The mock's wait before each response, in whole milliseconds; 0: none."""
    return _integer(text, low=0)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="conformance",
        description="Certify that an OpenAI-compatible HTTP API works with the official openai SDK.",
    )
    parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the checks against a target (default: the embedded reference mock)")
    add_run_options(run, plan=False)
    add_target_selection_option(run)
    plan = commands.add_parser(
        "plan",
        help="what a run with these options may spend (requests, completion tokens) per feature, measured "
        "against the reference mock; sends nothing to the target",
    )
    add_run_options(plan, plan=True)
    plan.add_argument("--json", action="store_true", help="machine-readable output")

    add_list_and_diff_commands(commands)

    coverage = commands.add_parser(
        "coverage",
        help="which fields of the SDK's chat and Responses types the catalog exercises; exits 1 when one is in "
        "neither list",
    )
    coverage.add_argument("--json", action="store_true", help="machine-readable output")
    coverage.add_argument("--missing-only", action="store_true", help="list only the fields in neither list")

    docs = commands.add_parser(
        "docs", help="generate the vendor docs page, HTML report, badge and JUnit from results.json files"
    )
    docs.add_argument("results", nargs="+", type=Path, metavar="RESULTS.json")
    docs.add_argument("--out", type=Path, required=True, help="output directory")

    sdk = commands.add_parser("sdk", help="the openai SDK's surface: extract it, compare two (pin bumps)")
    sdk_commands = sdk.add_subparsers(dest="sdk_command", required=True)
    surface = sdk_commands.add_parser("surface", help="extract the installed SDK's surface")
    surface.add_argument("--out", type=Path, help="write DIR/openai-<version>.json.gz (default: print the listing)")
    compare = sdk_commands.add_parser("diff", help="compare two surfaces and name the features each change touches")
    compare.add_argument("old", help="a shipped version (e.g. 1.109.1), a surface file, or 'installed'")
    compare.add_argument("new", help="the same, for the newer side")
    compare.add_argument("--json", action="store_true", help="machine-readable output")
    compare.add_argument("--all", action="store_true", help="also list changes outside the catalog's scope")

    guide = commands.add_parser(
        "troubleshooting", help="print the troubleshooting guide (symptom, cause, fix) from the catalog"
    )
    guide.add_argument(
        "--update-readme", type=Path, metavar="README", help="rewrite the generated section of this file instead"
    )

    mock = commands.add_parser("mock", help="serve the reference mock on its own")
    mock.add_argument("--host", default="127.0.0.1")
    mock.add_argument("--port", type=_port, default=0, help="port (default: a free one)")
    mock.add_argument(
        "--quirk", action="append", default=[], metavar="NAME", help="switch on a named quirk (repeatable)"
    )
    mock.add_argument("--api-key", default=None, help="the key the mock accepts (default: mock-api-key)")
    mock.add_argument("--list-quirks", action="store_true", help="list the quirks and exit")
    mock.add_argument("--profile", metavar="NAME", help="behave as a documented vendor (its models and quirks)")
    mock.add_argument("--list-profiles", action="store_true", help="list the vendor profiles and exit")
    mock.add_argument(
        "--seed", type=_seed, default=0, help="seed of the sampled, model-like behaviour (profile chatty)"
    )
    mock.add_argument(
        "--latency-ms",
        type=_latency_ms,
        default=0,
        metavar="N",
        help="wait N ms before each response, as a real server's time to first byte; concurrent requests "
        "wait at the same time (default 0)",
    )
    return parser


def add_run_options(run: argparse.ArgumentParser, *, plan: bool) -> None:
    """``run``'s options; ``plan`` takes those that decide what is sent (not --out, --quiet, --force, --gate)."""
    run.add_argument("--base-url", help="the target's base URL, ending in /v1 (env OPENAI_BASE_URL)")
    run.add_argument("--api-key", help="the target's API key (env OPENAI_API_KEY)")
    for capability in CAPABILITIES:
        run.add_argument(f"--{capability.option}", help=capability.help)
    run.add_argument("--config", type=Path, help="a target YAML file (base_url, api_key_env, models)")
    add_connection_options(run)
    if not plan:
        run.add_argument(
            "--out", type=Path, default=Path("reports/latest"), help="output directory (default reports/latest)"
        )
    run.add_argument(
        "--select",
        nargs="+",
        action="extend",
        metavar="PATTERN",
        help="run only features matching these IDs, globs (chat.stream.*) or areas",
    )
    add_exclude_option(run)
    run.add_argument(
        "--select-from",
        type=Path,
        metavar="RESULTS.json",
        help="run only the features a previous run's results.json holds (with --failed: those that failed)",
    )
    run.add_argument(
        "--failed",
        action="store_true",
        help="with --select-from: only the features whose judgement failed the gate, or whose verdict was "
        "nonconformant, unsupported or error",
    )
    run.add_argument(
        "--timeout",
        type=_seconds,
        default=Timeouts.read,
        help=f"seconds of silence before a response counts as stalled (default {Timeouts.read:g})",
    )
    run.add_argument(
        "--mock-quirk",
        action="append",
        default=[],
        metavar="NAME",
        help="with the embedded mock: switch on a named quirk (see `conformance mock --list-quirks`)",
    )
    run.add_argument(
        "--mock-profile",
        metavar="NAME",
        help="with the embedded mock: behave as a documented vendor (see `conformance mock --list-profiles`)",
    )
    run.add_argument(
        "--mock-seed",
        type=_seed,
        metavar="N",
        help="with the embedded mock: seed its sampled, model-like behaviour (--mock-profile chatty); "
        "the same seed gives the same run",
    )
    run.add_argument(
        "--mock-latency-ms",
        type=_latency_ms,
        metavar="N",
        help="with the embedded mock: wait N ms before each response, as a real server's time to first byte",
    )
    if not plan:
        run.add_argument("--quiet", action="store_true", help="print only the summary")
        run.add_argument(
            "--force",
            action="store_true",
            help="run even when preflight sees a wrong base URL or a chat model the server does not serve",
        )
    run.add_argument(
        "--trials",
        type=_count,
        default=DEFAULT_TRIALS,
        metavar="N",
        help="at most N requests where sampling decides what a check can judge (a call under tool_choice "
        "auto, JSON content, stream vs non-stream); repeated only after the model decided against it "
        f"(default {DEFAULT_TRIALS})",
    )
    run.add_argument(
        "--max-requests",
        type=_count,
        metavar="N",
        help="send at most N requests (preflight's included): a feature whose plan (`conformance plan`) "
        "exceeds what remains is skipped, and no request over the budget ever leaves (plan: which features "
        "such a run would skip)",
    )
    run.add_argument(
        "--max-completion-tokens",
        type=lambda text: _integer(text, low=0),
        metavar="N",
        help="request at most N completion tokens in all (max_tokens x n of the accepted requests), "
        "enforced the same way",
    )
    if plan:
        return
    run.add_argument(
        "-j",
        "--concurrency",
        type=_count,
        default=DEFAULT_CONCURRENCY,
        metavar="N",
        help=f"at most N features in flight at once (default {DEFAULT_CONCURRENCY}); halved when the server "
        "answers 429 or times out under load; results are the same whatever N. A run with a budget "
        "(--max-requests, --max-completion-tokens) runs one feature at a time, as its plan was measured",
    )
    run.add_argument(
        "--deadline",
        type=_deadline,
        default=DEFAULT_DEADLINE_S,
        metavar="SECONDS",
        help=f"end the run after this long, preflight included (default {DEFAULT_DEADLINE_S:g}): features not "
        "decided by then are errors, and results.json is written",
    )
    run.add_argument(
        "--gate",
        choices=[reading.value for reading in Reading],
        default=Reading.COMPATIBLE.value,
        help="the reading that decides the exit code: compatible (what the SDK needs; default) or strict "
        "(also OpenAI's published schemas)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: whatever goes wrong is an exit code and at most one line, never a traceback
    (Ctrl-C before this is reached, while importing: ``conformance/__main__.py``)."""
    try:
        code = _command(argv)
        sys.stdout.flush()  # a reader gone before the buffered output was written shows here
    except BrokenPipeError:
        return _reader_went_away()
    except OSError as error:  # a path the user named, found unusable late (a disk full, a directory removed)
        where = f"{error.filename}: " if error.filename else ""
        print(f"conformance: {where}{error.strerror or error}", file=sys.stderr)
        return EXIT_USAGE
    return code


def _reader_went_away() -> int:
    """`conformance coverage | head`: the reader closed the pipe. Like a Unix tool SIGPIPE ends, stop
    quietly with 141 (128 + SIGPIPE; `set -o pipefail` sees the cut, as with any such tool). Python's
    idiom (docs.python.org/3/library/signal.html#note-on-sigpipe): stdout to devnull, so the flush at
    exit raises nothing more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # a stdout without a file descriptor (in-process callers)
        pass
    return EXIT_BROKEN_PIPE


def _command(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return command_run(args)
        if args.command == "plan":
            return command_plan(args)
        if args.command == "mock":
            return command_mock(args)
        if args.command == "coverage":
            return command_coverage(args)
        if args.command == "docs":
            return command_docs(args)
        if args.command == "sdk":
            return command_sdk(args)
        if args.command == "troubleshooting":
            return command_troubleshooting(args)
        if args.command == "list":
            return command_list(args)
        if args.command == "diff":
            return command_diff(args)
    except ConfigError as error:
        # one line, whatever the text quotes (a YAML parser's message spans three)
        print(
            "conformance: " + "; ".join(line.strip() for line in str(error).splitlines() if line.strip()),
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_USAGE


# --- run ---------------------------------------------------------------------------------------


@contextmanager
def _target_for(args: argparse.Namespace) -> Iterator[Target]:
    timeouts = Timeouts(read=args.timeout)
    options = _target_options(args)  # headers, query, TLS, name: for the server and the embedded mock alike
    target = resolve_target(
        base_url=args.base_url,
        api_key=args.api_key,
        models=_flag_models(args),
        config_path=args.config,
        timeouts=timeouts,
    )
    if target is None:
        with embedded_target(
            quirks=args.mock_quirk,
            profile=args.mock_profile,
            timeouts=timeouts,
            models=_mock_models(args),
            seed=args.mock_seed,
            latency_ms=args.mock_latency_ms or 0,
        ) as mock:
            yield with_trials(options.apply(mock), args.trials)
        return
    if args.mock_quirk or args.mock_profile or args.mock_seed is not None or args.mock_latency_ms is not None:
        raise ConfigError(
            "--mock-quirk, --mock-profile, --mock-seed and --mock-latency-ms apply to the embedded mock only "
            "(no --base-url)"
        )
    if not args.base_url and not args.config:  # the environment chose the server, not the mock: say so first
        print(f"target: {target.base_url} (from OPENAI_BASE_URL; unset it to test the embedded mock)", file=sys.stderr)
    yield with_trials(options.apply(target), args.trials)


def _flag_models(args: argparse.Namespace) -> dict[str, str | None]:
    return {capability.name: getattr(args, capability.option.replace("-", "_")) for capability in CAPABILITIES}


def _mock_models(args: argparse.Namespace) -> dict[str, str | None]:
    """The embedded mock's models: a target file's (``embedded_mock: true``), then the flags over them."""
    configured = (read_config(args.config).get("models") or {}) if args.config else {}
    flags = {capability: model for capability, model in _flag_models(args).items() if model}
    return {**{capability: str(model) for capability, model in configured.items() if model}, **flags}


class Progress:
    """The run as it goes, on stderr: features done of total, the time so far, a running tally (ok,
    fail, skip: the policy's disposition of each verdict and level, before claims and known failures,
    which the summary applies) and an ETA from the mean time per feature so far. On a terminal one
    line rewritten in place, naming the feature in flight; elsewhere (CI logs, a pipe) a plain line as
    each area first starts and one at the end. Silent when quiet."""

    def __init__(self, stream: TextIO, quiet: bool, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.quiet = quiet
        self.live = stream.isatty()
        self.clock = clock
        self.started: float | None = None
        self.tally = {"ok": 0, "fail": 0, "skip": 0}
        self._areas: set[str] = set()  # areas already announced: features of several run at once

    def __call__(self, done: int, total: int, feature: Feature, result: FeatureResult | None) -> None:
        if self.quiet:
            return
        now = self.clock()
        if self.started is None:
            self.started = now
        if result is not None:
            self.tally[self._kind(result)] += 1
        elapsed = now - self.started
        if self.live:
            width = shutil.get_terminal_size((100, 20)).columns - 1
            line = f"{self.status(done, total, elapsed)} · {feature.area}: {feature.id}"
            self.stream.write("\r" + line[:width].ljust(width))
            if done == total and result is not None:
                self.stream.write("\r" + " " * width + "\r")
            self.stream.flush()
        elif result is None and feature.area not in self._areas:
            self._areas.add(feature.area)
            self.stream.write(f"{self.status(done, total, elapsed)} · {feature.area}\n")
            self.stream.flush()
        elif result is not None and done == total:
            self.stream.write(f"{self.status(done, total, elapsed)} · done\n")
            self.stream.flush()

    def status(self, done: int, total: int, elapsed: float) -> str:
        """``[ 12/94] 0:05 · ok 10 fail 1 skip 1 · ETA 0:31``: the ETA once a feature is done, until the last."""
        tally = " ".join(f"{kind} {count}" for kind, count in self.tally.items())
        line = f"[{done:>3}/{total}] {_clock(elapsed)} · {tally}"
        if 0 < done < total:
            line += f" · ETA {_clock(elapsed / done * (total - done))}"
        return line

    @staticmethod
    def _kind(result: FeatureResult) -> str:
        disposition = judge_feature(result.outcome.status, result.feature.level).disposition
        return "fail" if disposition.fails_gate else "ok" if disposition is Disposition.PASS else "skip"


def _clock(seconds: float) -> str:
    """``0:05``, ``12:40``, ``1:02:03``."""
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def check_out_dir(out: Path) -> None:
    """``--out`` must be a directory this run can write: known before the first request, not after
    the whole run (when the results would be lost). No trace is left: a directory made to find out
    is removed again (the reports make it at the end)."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a directory")
    made = [parent for parent in (out, *out.parents) if not parent.exists()]
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise ConfigError(f"cannot write to --out {out}: {error.strerror or error}") from None
    finally:
        for directory in made:  # deepest first; rmdir only ever removes an empty directory
            with contextlib.suppress(OSError):
                directory.rmdir()


def command_run(args: argparse.Namespace) -> int:
    if runs_several_targets(args):  # a target file of several targets, or --target: each into --out DIR/<name>/
        return command_run_targets(args)
    check_out_dir(args.out)  # before anything is sent
    catalog: Catalog = load_catalog()
    features = chosen_features(args, catalog)  # --select, --exclude, --select-from [--failed]
    if not features:  # --failed, and nothing failed
        print(f"conformance: nothing to rerun: no feature failed in {args.select_from}", file=sys.stderr)
        return EXIT_OK
    selection = Selection(len(features), len(catalog), tuple(args.select or ()))
    expectations = load_expectations(read_config(args.config), catalog) if args.config else None
    budgeted = args.max_requests is not None or args.max_completion_tokens is not None
    plan = measure_plan(args, catalog, features).spent_by_feature if budgeted else None  # sends nothing to the target
    with _target_for(args) as target:
        progress = Progress(sys.stderr, args.quiet)
        with Engine(
            target,
            catalog,
            progress=progress,
            max_requests=args.max_requests,
            max_completion_tokens=args.max_completion_tokens,
            plan=plan,
            concurrency=args.concurrency,
            deadline_s=args.deadline,
        ) as engine:
            stopped_by_mistake = False
            try:
                preflight(engine.wire, catalog, force=args.force)
            except Stopped as stop:  # the target accepted the connection: the run is written, with the cause
                print(f"conformance: {stop}", file=sys.stderr)
                run = engine.stopped_before(features, "preflight", str(stop))
                stopped_by_mistake = not isinstance(stop, NoAnswer)  # a configuration mistake: exit 2
            else:
                run = _run_checks(args, engine, target, features, selection)
        results = build_results(run, catalog, expectations, gate=Reading(args.gate), patterns=selection.patterns)
    written = write_reports(results, args.out)
    if stopped_by_mistake:  # the one line above says what to fix; the reports say it to CI
        return EXIT_USAGE
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:  # in GitHub Actions: the verdict on the run's page
        from conformance.report.docs import render_step_summary

        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write(render_step_summary(results))
    width = shutil.get_terminal_size((120, 20)).columns
    # --quiet: the summary alone (counts, gate, certified line, files written); colour only on a terminal
    colour = wants_colour(sys.stdout)
    print(render_summary(results, width=width, files=[str(p) for p in written], colour=colour, quiet=args.quiet))
    if run.budget is not None:
        print(_budget_line(run.budget))
    if os.environ.get("GITHUB_ACTIONS") == "true":  # one ::error annotation per feature that fails the gate
        from conformance.report.annotations import render_annotations

        print(render_annotations(results), end="", flush=True)
    if run.interrupted:  # Ctrl-C mid-run: what was decided is written, and the run says it was cut short
        decided = sum(1 for r in run.results.values() if r.outcome.reason != NOT_RUN)
        print(
            f"conformance: interrupted: {decided} of {len(run.results)} features decided, the rest not run; "
            f"partial results in {args.out}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    return gate_of(results).exit_code


def _run_checks(
    args: argparse.Namespace, engine: Engine, target: Target, features: list[Feature], selection: Selection
) -> RunResult:
    if not args.quiet:
        partial = f" ({selection.describe()}, never certified)" if selection.partial else ""
        print(
            f"{TOOL_NAME} {__version__}: {len(features)} features against {target.base_url}{partial}",
            file=sys.stderr,
        )
        if engine.redactor.mode == "sent_only":  # results.json "redaction" says the same, with the reason
            print("the API key is short: masked where sent and echoed, not as a substring", file=sys.stderr)
    run = engine.run(features)
    if run.stopped is not None:
        decided = sum(1 for r in run.results.values() if not r.outcome.reason.startswith(NOT_DECIDED))
        print(
            f"conformance: stopped: {run.stopped['cause']}; {decided} of {len(run.results)} features decided",
            file=sys.stderr,
        )
    return run


def _budget_line(budget: dict[str, Any]) -> str:
    """``budget: spent 40 of 50 requests, 600 of 1000 tokens; 12 features skipped for budget``."""

    def of(spent: int, limit: int | None, noun: str) -> str:
        return f"{spent} of {limit} {noun}" if limit is not None else f"{spent} {noun} (no limit)"

    spent, skipped_ = budget["spent"], len(budget["skipped_for_budget"])
    return (
        f"budget: spent {of(spent['requests'], budget['max_requests'], 'requests')}, "
        f"{of(spent['completion_tokens'], budget['max_completion_tokens'], 'tokens')}; "
        f"{skipped_} feature{'' if skipped_ == 1 else 's'} skipped for budget"
    )


# --- several targets ---------------------------------------------------------------------------


def add_target_selection_option(run: argparse.ArgumentParser) -> None:
    run.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME",
        help="with --config: run only this target of the file (repeatable; its name, its directory name, or "
        "the name of the entry whose chat models it expands), into --out DIR/<name>/",
    )


def runs_several_targets(args: argparse.Namespace) -> bool:
    """Whether ``run`` runs targets one by one, each into ``--out DIR/<name>/`` with a comparison
    beside them: the target file lists several, or ``--target`` picks from it (a CI job of a matrix,
    which must find its results where the other jobs do)."""
    if args.target and not args.config:
        raise ConfigError("--target NAME picks a target of a target file: add --config FILE")
    return bool(args.config) and (bool(args.target) or lists_several_targets(read_config(args.config, several=True)))


def command_run_targets(args: argparse.Namespace) -> int:
    """Run each target of the file in turn, each exactly as a run of a file of one target (preflight,
    engine, reports) into ``--out DIR/<name>/``, then write ``DIR/comparison.md`` from their results.
    A target that cannot be run (unreachable, stopped by preflight, its key not set) leaves a not-run
    record there instead and the others go on. Exit 0 only when every target's gate passes; 2 for a
    mistake in the file or the flags, found before anything is sent."""
    import yaml

    from conformance.report import RESULTS_FILE, write_comparison
    from conformance.report.comparison import NOT_RUN_FILE, not_run_record, summary_lines
    from conformance.sdk import SDK_VERSION

    path: Path = args.config
    chosen = select_targets(target_entries(read_config(path, several=True), path), args.target, path)
    _check_targets(args, chosen, path)

    def not_run(entry: TargetEntry, out: Path, reason: str) -> tuple[dict[str, Any], Path]:
        base_url = args.base_url or entry.config.get("base_url")
        record = not_run_record(entry.name, reason, base_url=base_url, sdk_version=SDK_VERSION)
        out.mkdir(parents=True, exist_ok=True)
        (out / NOT_RUN_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        return record, out

    outcomes: list[tuple[dict[str, Any], Path]] = []  # each target's results (or not-run record), and its directory
    codes: list[int] = []
    interrupted = False
    # Each target runs from a file of one target, the one command_run reads: the same code path as any
    # single run. It lives in a private scratch directory (the file's header values may be credentials)
    # removed when the runs end.
    with tempfile.TemporaryDirectory(prefix="conformance-targets-") as scratch:
        for index, entry in enumerate(chosen, 1):
            out = args.out / entry.slug
            for earlier in (out / RESULTS_FILE, out / NOT_RUN_FILE):  # the directory says what this run found
                earlier.unlink(missing_ok=True)
            if interrupted:
                outcomes.append(not_run(entry, out, "the run was interrupted before this target"))
                continue
            single = Path(scratch) / f"{entry.slug}.yaml"
            single.write_text(yaml.safe_dump(dict(entry.config), sort_keys=False, allow_unicode=True), encoding="utf-8")
            print(f"conformance: target {index} of {len(chosen)}: {entry.name} -> {out}", file=sys.stderr)
            try:
                code = command_run(argparse.Namespace(**{**vars(args), "config": single, "out": out, "target": []}))
            except ConfigError as error:  # this target's alone: say why in its column, run the others
                reason = " ".join(str(error).replace(str(single), f"{path} ({entry.name})").split())
                print(f"conformance: {entry.name}: {reason}", file=sys.stderr)
                outcomes.append(not_run(entry, out, reason))
                codes.append(EXIT_FAILED)
                continue
            except KeyboardInterrupt:
                print("conformance: interrupted", file=sys.stderr)
                interrupted = True
                outcomes.append(not_run(entry, out, "the run was interrupted"))
                continue
            if (out / RESULTS_FILE).exists():  # not when --select-from --failed found nothing to rerun
                outcomes.append((json.loads((out / RESULTS_FILE).read_text(encoding="utf-8")), out))
            codes.append(code)
            interrupted = code == EXIT_INTERRUPTED
    if not outcomes:
        return EXIT_OK
    documents = [document for document, _ in outcomes]
    written = write_comparison(documents, args.out)
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path and len(documents) > 1:  # each run wrote its own summary; the comparison goes under them
        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write("\n" + written.read_text(encoding="utf-8"))
    print()
    for line, (_, directory) in zip(summary_lines(documents), outcomes, strict=True):
        print(f"{line} ({directory})")
    print(f"wrote {written}")
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_OK if all(code == EXIT_OK for code in codes) else EXIT_FAILED


def _check_targets(args: argparse.Namespace, chosen: list[TargetEntry], path: Path) -> None:
    """The mistakes of the file or the flags, which every run would meet: exit 2 before anything is sent."""
    if len(chosen) > 1 and args.name:
        raise ConfigError("--name names one target, and this run has several: pick one with --target NAME")
    if len(chosen) > 1 and args.select_from:
        raise ConfigError("--select-from reads the results of one target: pick it with --target NAME")
    check_out_dir(args.out)
    catalog = load_catalog()
    chosen_features(args, catalog)
    chat_model = _flag_models(args)["chat"]
    for entry in chosen:
        check_target_entry(entry, path, base_url=args.base_url, chat_model=chat_model, environ=os.environ)
        try:
            load_expectations(dict(entry.config), catalog)
        except ConfigError as error:
            raise ConfigError(f"target config {path}: target {entry.name!r}: {error}") from None


# --- plan ----------------------------------------------------------------------------------------


@contextmanager
def _reference_for(args: argparse.Namespace) -> Iterator[Target]:
    """The reference mock a plan is measured on, never the target: the run's own mock (its quirks,
    profile, seed) when the run is against the embedded mock; else a plain one, with a model for
    exactly the capabilities the target has (a feature the target cannot run costs nothing)."""
    target = resolve_target(
        base_url=args.base_url,
        api_key=args.api_key,
        models=_flag_models(args),
        config_path=args.config,
        timeouts=Timeouts(read=args.timeout),
    )
    if target is None:
        with _target_for(args) as mock:
            yield mock
        return
    with planning.plain_reference(with_trials(target, args.trials)) as mock:
        yield mock


def measure_plan(args: argparse.Namespace, catalog: Catalog, features: list[Feature]) -> RunResult:
    """Run ``features`` against the reference mock, as ``run`` would (preflight, run order, shared
    requests), and return what each spent: the plan (``planning.measure_plan``)."""
    with _reference_for(args) as reference:
        return planning.measure_plan(reference, catalog, features)


def command_plan(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    features = chosen_features(args, catalog)
    if not features:
        print(f"conformance: nothing to plan: no feature failed in {args.select_from}", file=sys.stderr)
        return EXIT_OK
    measured = measure_plan(args, catalog, features)
    forecast = None
    if args.max_requests is not None or args.max_completion_tokens is not None:
        with _reference_for(args) as reference:  # a fresh mock: the run with the budget starts from nothing
            forecast = planning.forecast_budget(
                reference,
                catalog,
                features,
                measured.spent_by_feature,
                max_requests=args.max_requests,
                max_completion_tokens=args.max_completion_tokens,
            )
    document = plan_document(measured, args.trials, forecast)
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        print(render_plan(document), end="")
    return EXIT_OK


def plan_document(measured: RunResult, trials: int, forecast: planning.BudgetForecast | None = None) -> dict[str, Any]:
    """The plan: per feature (in run order) its nominal spend and its maximum against a server whose
    model makes the checks repeat (``--trials``) or cuts replies at our budget; preflight; totals;
    with a budget, the features a run with it skips and what it spends within it."""
    rows: dict[str, dict[str, Any]] = {}
    nominal, maximum = measured.preflight, measured.preflight
    for feature_id, spent in measured.spent_by_feature.items():
        worst = spent + measured.headroom_by_feature.get(feature_id, Spend())
        rows[feature_id] = {
            "requests": spent.requests,
            "completion_tokens": spent.completion_tokens,
            "max_requests": worst.requests,
            "max_completion_tokens": worst.completion_tokens,
            "status_on_mock": measured.results[feature_id].outcome.status.value,
        }
        nominal, maximum = nominal + spent, maximum + worst
    return {
        "measured_on": measured.target.name,
        "trials": trials,
        "preflight": measured.preflight.to_json(),
        "features": rows,
        "total": {
            **nominal.to_json(),
            "max_requests": maximum.requests,
            "max_completion_tokens": maximum.completion_tokens,
        },
        **({"budget": forecast.to_json()} if forecast is not None else {}),
        "notes": plan_notes(forecast is not None),
    }


def plan_notes(budgeted: bool = False) -> list[str]:
    """What the plan's figures mean, printed under them (and in ``--json`` ``notes``)."""
    from conformance.checks._common import BUDGET_FACTOR  # imported here: `conformance coverage` never loads the SDK

    return [
        "measured by running the selected features against the reference mock; nothing is sent to the target",
        "a request several features share is sent once, and charged to the first feature that sends it (run order)",
        "max: a check whose model outcome repeats tries up to --trials answers, and a reply cut at our max_tokens is "
        f"asked again once with {BUDGET_FACTOR}x the budget",
        "not in max: a 429 may re-send a request up to twice, a request lost on a reused connection once, a stalled "
        "one adds a liveness probe; --max-requests and --max-completion-tokens count every send and never let one "
        "over the budget leave",
    ] + (
        [
            "budget: decided as a run decides it, by running the features with the budget against a fresh reference "
            "mock: a feature whose plan exceeds what remains is skipped before sending; a request it would have "
            "shared falls to the next feature that needs it, which the budget may then stop mid-check"
        ]
        if budgeted
        else []
    )


def render_plan(document: dict[str, Any]) -> str:
    rows = [("preflight", document["preflight"]["requests"], document["preflight"]["completion_tokens"], "", "")]
    for feature_id, row in document["features"].items():
        rows.append(
            (feature_id, row["requests"], row["completion_tokens"], row["max_requests"], row["max_completion_tokens"])
        )
    total = document["total"]
    rows.append(
        ("total", total["requests"], total["completion_tokens"], total["max_requests"], total["max_completion_tokens"])
    )
    width = max(len(str(row[0])) for row in rows)
    header = ("feature", "requests", "tokens", "max req", "max tokens")
    budget = document.get("budget")
    marks = {"feature": "  budget" if budget else ""}
    if budget:
        marks |= {f: "  skip" for f in budget["skipped_before_sending"]}
        marks |= {f: "  stop" for f in budget["refused_mid_check"]}
    lines = [f"plan: {len(document['features'])} features, --trials {document['trials']} ({document['measured_on']})"]
    for row in (header, *rows):
        if row[0] == "total":
            lines.append("-" * (width + 44))
        cells = "".join(f"{row[i]!s:>11}" for i in range(1, 5))
        lines.append(f"{str(row[0]).ljust(width)}  {cells}{marks.get(str(row[0]), '')}")
    if budget:
        lines += _budget_forecast_lines(budget)
    lines += [f"note: {note}" for note in document["notes"]]
    return "\n".join(lines) + "\n"


def _budget_forecast_lines(budget: dict[str, Any]) -> list[str]:
    """``budget (--max-requests 50): 41 features skipped before sending, ...; within it: 50 requests, ...``."""
    limits = [
        f"--{flag} {budget[key]}"
        for flag, key in (("max-requests", "max_requests"), ("max-completion-tokens", "max_completion_tokens"))
        if budget[key] is not None
    ]
    skipped, stopped, spent = budget["skipped_before_sending"], budget["refused_mid_check"], budget["spent"]
    lines = [
        f"budget ({', '.join(limits)}): {len(skipped)} feature{'' if len(skipped) == 1 else 's'} skipped before "
        f"sending (skip), {len(stopped)} stopped mid-check when a request would exceed it (stop); within it: "
        f"{spent['requests']} requests, {spent['completion_tokens']} completion tokens"
    ]
    if skipped:
        lines.append(f"skipped before sending: {', '.join(skipped)}")
    if stopped:
        lines.append(f"stopped mid-check: {', '.join(stopped)}")
    return lines


# --- selection, connection options, list, diff ------------------------------------------------------


def add_exclude_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="leave out features matching this ID, glob or area (repeatable; after --select)",
    )


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """How to reach a target that is not plain OpenAI (also ``headers:``, ``query:``, ``ca_bundle:``,
    ``insecure:``, ``name:`` in the target file; a flag wins over the file)."""
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="send this header with every request, SDK and raw (repeatable; an Azure-style 'api-key: ...'); "
        "credential headers are masked in reports and never sent to another origin",
    )
    parser.add_argument(
        "--query",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="add this query parameter to every request (repeatable; Azure's api-version=2024-10-21)",
    )
    parser.add_argument("--ca-bundle", type=Path, metavar="PATH", help="trust the CAs in this PEM file (staging)")
    parser.add_argument(
        "--insecure", action="store_true", help="do not verify the server's TLS certificate (staging only)"
    )
    parser.add_argument("--name", help="the target's name in every report (default: the target file's name)")


def add_list_and_diff_commands(commands: Any) -> None:  # argparse's subparsers action
    listing = commands.add_parser(
        "list", help="the features: level, area, what each needs, and whether it would run with these models"
    )
    listing.add_argument("--base-url", help="as for run: with none anywhere, the embedded mock's models are used")
    for capability in CAPABILITIES:
        listing.add_argument(f"--{capability.option}", help=capability.help)
    listing.add_argument("--config", type=Path, help="a target YAML file (its models)")
    listing.add_argument("--select", nargs="+", action="extend", metavar="PATTERN", help="only these features")
    add_exclude_option(listing)
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    compare = commands.add_parser(
        "diff", help="regressions, fixes and other verdict changes between two results.json; exit 1 on a regression"
    )
    compare.add_argument("old", type=Path, metavar="OLD.json")
    compare.add_argument("new", type=Path, metavar="NEW.json")
    compare.add_argument("--json", action="store_true", help="machine-readable output")


def chosen_features(args: argparse.Namespace, catalog: Catalog) -> list[Feature]:
    """The features ``--select`` chooses, less ``--exclude``'s, within ``--select-from``'s (``--failed``:
    its failed ones). A pattern that matches nothing is an error, as a mistyped one would be."""
    for patterns, option in ((args.select, "--select"), (args.exclude, "--exclude")):
        unmatched = catalog.unmatched(patterns, option)
        if unmatched:
            raise ConfigError(unmatched)
    features = catalog.select(args.select)
    if args.exclude:
        excluded = {feature.id for feature in catalog.select(args.exclude)}
        features = [feature for feature in features if feature.id not in excluded]
    if getattr(args, "failed", False) and not getattr(args, "select_from", None):
        raise ConfigError("--failed needs --select-from RESULTS.json (the run whose failures to rerun)")
    if getattr(args, "select_from", None):
        from conformance.regressions import failed_features

        document = _read_results(args.select_from)
        wanted = failed_features(document) if args.failed else list(document["features"])
        known = {catalog[f].id for f in wanted if f in catalog.features or f in catalog.aliases}
        if args.failed and not wanted:
            return []
        features = [feature for feature in features if feature.id in known]
    if not features:
        raise ConfigError("no feature left to run: --exclude (or --select-from) removed every selected feature")
    return features


def _read_results(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("features"), dict):
        raise ConfigError(f"{path} is not a results.json (no features)")
    return document


def _target_options(args: argparse.Namespace) -> TargetOptions:
    config = read_config(args.config) if args.config else None
    return target_options(
        config,
        config_path=args.config,
        headers=args.header,
        query=args.query,
        ca_bundle=args.ca_bundle,
        insecure=args.insecure,
        name=args.name,
    )


def command_list(args: argparse.Namespace) -> int:
    from conformance.feature_list import listing_json, listing_models, render_listing

    catalog = load_catalog()
    features = chosen_features(args, catalog)
    config = read_config(args.config) if args.config else None
    models = listing_models(config, _flag_models(args), base_url=args.base_url, environ=os.environ)
    document = listing_json(features, models, len(catalog))
    if args.json:
        print(json.dumps(document, indent=2))
    else:
        print(render_listing(document, models.source), end="")
    return EXIT_OK


def command_diff(args: argparse.Namespace) -> int:
    from conformance.regressions import diff_results, render_diff_text

    old, new = _read_results(args.old), _read_results(args.new)
    try:
        diff = diff_results(old, new)
    except (KeyError, ValueError) as error:
        raise ConfigError(f"not a results.json this version can read: {error}") from None
    if args.json:
        print(json.dumps(diff.to_json(), indent=2))
    else:
        print(render_diff_text(diff, (str(args.old), str(args.new))), end="")
    return diff.exit_code


# --- coverage --------------------------------------------------------------------------------------


def command_coverage(args: argparse.Namespace) -> int:
    from conformance.sdk import SDK_VERSION
    from conformance.sdk.coverage import compute_coverage, render_coverage

    report = compute_coverage(load_catalog(), SDK_VERSION)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render_coverage(report, verbose=not args.missing_only))
    return EXIT_OK if report.ok else EXIT_FAILED


# --- docs --------------------------------------------------------------------------------------------


def command_docs(args: argparse.Namespace) -> int:
    import jsonschema

    from conformance.report import write_docs

    documents = []
    for path in args.results:
        try:
            documents.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read {path}: {error}") from None
    try:
        written = write_docs(documents, args.out)
    except jsonschema.ValidationError as error:
        raise ConfigError(f"not a results.json this version can read: {error.message}") from None
    print("wrote " + ", ".join(str(p) for p in written))
    return EXIT_OK


# --- sdk ---------------------------------------------------------------------------------------------


def command_sdk(args: argparse.Namespace) -> int:
    from conformance.sdk.surface.diff import diff_surfaces
    from conformance.sdk.surface.extract import catalog_modules, extract_surface
    from conformance.sdk.surface.model import Surface, SurfaceError, dumps, fixture_path
    from conformance.sdk.surface.text import render_diff_markdown, render_surface_listing

    try:
        if args.sdk_command == "surface":
            if args.out is None:  # the listing shows the catalog's part: extract only that
                print(render_surface_listing(Surface(extract_surface(catalog_modules()))), end="")
                return EXIT_OK
            surface = Surface(extract_surface())
            args.out.mkdir(parents=True, exist_ok=True)
            path = fixture_path(surface.version, args.out)
            path.write_bytes(dumps(surface.document))
            print(f"wrote {path} ({len(surface.types)} types, {len(surface.endpoints)} methods)")
            return EXIT_OK
        diff = diff_surfaces(Surface.load(args.old), Surface.load(args.new), load_catalog())
    except SurfaceError as error:
        raise ConfigError(str(error)) from None
    if args.json:
        print(json.dumps(diff.to_json(), indent=2))
    else:
        print(render_diff_markdown(diff, everything=args.all), end="")
    return EXIT_OK


# --- troubleshooting -------------------------------------------------------------------------------


def command_troubleshooting(args: argparse.Namespace) -> int:
    from conformance.troubleshooting import render_troubleshooting, update_readme

    catalog = load_catalog()
    if args.update_readme is None:
        print(render_troubleshooting(catalog), end="")
        return EXIT_OK
    try:
        changed = update_readme(args.update_readme, catalog)
    except (OSError, ValueError) as error:
        raise ConfigError(str(error)) from None
    print(f"{args.update_readme}: {'updated' if changed else 'already up to date'}")
    return EXIT_OK


# --- mock --------------------------------------------------------------------------------------


def command_mock(args: argparse.Namespace) -> int:
    from conformance.mock.profiles import PROFILES, UnknownProfile
    from conformance.mock.quirks import QUIRKS, UnknownQuirk
    from conformance.mock.server import DEFAULT_API_KEY, MockServer

    if args.list_quirks:
        width = max(len(q) for q in QUIRKS)
        for quirk in QUIRKS.values():
            # benign: reported, never failed, in the compatible reading (a strict-only quirk still
            # fails the strict one; a model quirk is the model's choice, never the server's)
            kind = " (model behaviour)" if quirk.model else " (strict only)" if quirk.detects_strict else ""
            kind = kind or (" (benign)" if quirk.benign else "")
            print(f"{quirk.id.ljust(width)}  {quirk.description}{kind}")
        return EXIT_OK
    if args.list_profiles:
        for profile in PROFILES.values():
            print(f"{profile.id.ljust(10)}  {profile.vendor}: {profile.source}; {len(profile.quirks)} quirks")
        return EXIT_OK
    try:
        server = MockServer(
            quirks=args.quirk,
            api_key=args.api_key or DEFAULT_API_KEY,
            host=args.host,
            port=args.port,
            profile=args.profile,
            seed=args.seed,
            latency_ms=args.latency_ms,
        )
    except (UnknownQuirk, UnknownProfile) as error:
        raise ConfigError(str(error.args[0])) from None
    except OSError as error:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    print(server.base_url, flush=True)
    print(
        f"api key: {server.api_key}  models: {', '.join(server.app.models)}"
        + (f"  quirks: {', '.join(q.id for q in server.quirks)}" if server.quirks else "")
        + (f"  latency: {args.latency_ms} ms" if args.latency_ms else ""),
        file=sys.stderr,
        flush=True,
    )
    server.serve_forever()
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
