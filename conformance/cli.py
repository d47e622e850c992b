"""The command line (contract: docs/contracts.md#cli). Nothing imports this module."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from conformance import TOOL_NAME, __version__
from conformance.capabilities import CAPABILITIES
from conformance.catalog import Catalog, Feature, load_catalog
from conformance.document import build_results
from conformance.embedded import embedded_target
from conformance.engine import Engine, FeatureResult
from conformance.expectations import load_expectations
from conformance.policy import Reading, gate_of
from conformance.report import write_reports
from conformance.report.console import render_summary
from conformance.target import (
    DEFAULT_TRIALS,
    ConfigError,
    Target,
    Timeouts,
    read_config,
    resolve_target,
    same_origin,
    with_trials,
)
from conformance.wire import TransportFailure, WireClient

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance",
        description="Certify that an OpenAI-compatible HTTP API works with the official openai SDK.",
    )
    parser.add_argument("--version", action="version", version=f"{TOOL_NAME} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the checks against a target (default: the embedded reference mock)")
    run.add_argument("--base-url", help="the target's base URL, ending in /v1 (env OPENAI_BASE_URL)")
    run.add_argument("--api-key", help="the target's API key (env OPENAI_API_KEY)")
    for capability in CAPABILITIES:
        run.add_argument(f"--{capability.option}", help=capability.help)
    run.add_argument("--config", type=Path, help="a target YAML file (base_url, api_key_env, models)")
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
    run.add_argument(
        "--timeout",
        type=float,
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
        type=int,
        metavar="N",
        help="with the embedded mock: seed its sampled, model-like behaviour (--mock-profile chatty); "
        "the same seed gives the same run",
    )
    run.add_argument("--quiet", action="store_true", help="print only the summary")
    run.add_argument(
        "--trials",
        type=int,
        default=DEFAULT_TRIALS,
        metavar="N",
        help="at most N requests where sampling decides what a check can judge (a call under tool_choice "
        "auto, JSON content, stream vs non-stream); repeated only after the model decided against it "
        f"(default {DEFAULT_TRIALS})",
    )
    run.add_argument(
        "--gate",
        choices=[reading.value for reading in Reading],
        default=Reading.COMPATIBLE.value,
        help="the reading that decides the exit code: compatible (what the SDK needs; default) or strict "
        "(also OpenAI's published schemas)",
    )

    coverage = commands.add_parser(
        "coverage", help="which SDK chat fields the catalog exercises; exits 1 when one is in neither list"
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
    mock.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    mock.add_argument(
        "--quirk", action="append", default=[], metavar="NAME", help="switch on a named quirk (repeatable)"
    )
    mock.add_argument("--api-key", default=None, help="the key the mock accepts (default: mock-api-key)")
    mock.add_argument("--list-quirks", action="store_true", help="list the quirks and exit")
    mock.add_argument("--profile", metavar="NAME", help="behave as a documented vendor (its models and quirks)")
    mock.add_argument("--list-profiles", action="store_true", help="list the vendor profiles and exit")
    mock.add_argument("--seed", type=int, default=0, help="seed of the sampled, model-like behaviour (profile chatty)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return command_run(args)
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
    except ConfigError as error:
        print(f"conformance: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("conformance: interrupted", file=sys.stderr)
        return 130
    return EXIT_USAGE


# --- run ---------------------------------------------------------------------------------------


@contextmanager
def _target_for(args: argparse.Namespace) -> Iterator[Target]:
    timeouts = Timeouts(read=args.timeout)
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
            models=_flag_models(args),
            seed=args.mock_seed,
        ) as mock:
            yield with_trials(mock, args.trials)
        return
    if args.mock_quirk or args.mock_profile or args.mock_seed is not None:
        raise ConfigError(
            "--mock-quirk, --mock-profile and --mock-seed apply to the embedded mock only (no --base-url)"
        )
    yield with_trials(target, args.trials)


def _flag_models(args: argparse.Namespace) -> dict[str, str | None]:
    return {capability.name: getattr(args, capability.option.replace("-", "_")) for capability in CAPABILITIES}


def preflight(wire: WireClient) -> None:
    """Fail fast, with one line, when the target cannot be used at all."""
    target = wire.target
    try:
        response = wire.get("models")
    except TransportFailure as failure:
        if failure.kind == "connect":
            raise ConfigError(f"cannot reach {target.base_url}: {_reason(failure.detail)}") from None
        if failure.kind == "no_response":
            raise ConfigError(f"cannot reach {target.base_url}: no answer within {target.timeouts.read:g} s") from None
        return  # it answers, if badly: that is for the checks to judge
    moved_away = not same_origin(response.exchange.url, target.base_url)
    if response.status in (401, 403) and not moved_away:  # after a cross-origin redirect it is the server's fault
        raise ConfigError(f"{target.base_url} rejected the API key (HTTP {response.status} on GET /models)")


def _reason(text: str) -> str:
    for known in ("Connection refused", "Name or service not known", "No address associated", "timed out"):
        if known in text:
            return known.lower()
    return text.splitlines()[0][:160]


class Progress:
    """Features done of total and the area in flight, on stderr; silent when quiet."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.live = stream.isatty()
        self._area = ""

    def __call__(self, done: int, total: int, feature: Feature, result: FeatureResult | None) -> None:
        if self.quiet:
            return
        if self.live:
            width = shutil.get_terminal_size((100, 20)).columns - 1
            line = f"[{done:>3}/{total}] {feature.area}: {feature.id}"
            self.stream.write("\r" + line[:width].ljust(width))
            if done == total and result is not None:
                self.stream.write("\r" + " " * width + "\r")
            self.stream.flush()
        elif result is None and feature.area != self._area:
            self._area = feature.area
            self.stream.write(f"[{done:>3}/{total}] {feature.area}\n")
            self.stream.flush()


def command_run(args: argparse.Namespace) -> int:
    catalog: Catalog = load_catalog()
    features = catalog.select(args.select)
    if not features:
        raise ConfigError(f"no feature matches --select {' '.join(args.select)}")
    expectations = load_expectations(read_config(args.config), catalog) if args.config else None
    with _target_for(args) as target:
        progress = Progress(sys.stderr, args.quiet)
        with Engine(target, catalog, progress=progress) as engine:
            preflight(engine.wire)
            if not args.quiet:
                print(f"{TOOL_NAME} {__version__}: {len(features)} features against {target.base_url}", file=sys.stderr)
                if engine.redactor.mode == "sent_only":  # results.json "redaction" says the same, with the reason
                    print("the API key is short: masked where sent and echoed, not as a substring", file=sys.stderr)
            run = engine.run(features)
        results = build_results(run, catalog, expectations, gate=Reading(args.gate))
    written = write_reports(results, args.out)
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:  # in GitHub Actions: the verdict on the run's page
        from conformance.report.docs import render_step_summary

        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write(render_step_summary(results))
    width = shutil.get_terminal_size((120, 20)).columns
    print(render_summary(results, width=width, files=[str(p) for p in written]))
    return gate_of(results).exit_code


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
        )
    except (UnknownQuirk, UnknownProfile) as error:
        raise ConfigError(str(error.args[0])) from None
    except OSError as error:
        raise ConfigError(f"cannot listen on {args.host}:{args.port}: {error.strerror}") from None
    print(server.base_url, flush=True)
    print(
        f"api key: {server.api_key}  models: {', '.join(server.app.models)}"
        + (f"  quirks: {', '.join(q.id for q in server.quirks)}" if server.quirks else ""),
        file=sys.stderr,
        flush=True,
    )
    server.serve_forever()
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
