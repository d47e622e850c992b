"""One capability table (``conformance.capabilities``), and everything that lists capabilities agrees with it.

A capability is what a feature needs a model for. The command line, the pytest plugin, target files,
the catalog's schema, the reference mock and the vendor profiles all read the table; these tests
fail when one of them grows its own list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.capabilities import BY_NAME, CAPABILITIES, KINDS, NAMES, mock_models, noun_for
from conformance.catalog import CatalogError, parse_catalog
from conformance.cli import build_parser
from conformance.embedded import embedded_target
from conformance.mock.profiles import PROFILES, probing_absent
from conformance.mock.served import DEFAULT_MODELS
from conformance.plugin import pytest_addoption
from conformance.target import ConfigError, resolve_target

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "conformance" / "schemas" / "matrix.schema.json"
CATALOG = ROOT / "matrix.yaml"


def test_the_table_is_well_formed() -> None:
    assert len(NAMES) == len(set(NAMES)) == len(CAPABILITIES)
    assert len({c.option for c in CAPABILITIES}) == len(CAPABILITIES)
    for capability in CAPABILITIES:
        assert capability.kind in BY_NAME and BY_NAME[capability.kind].kind == capability.kind  # kinds name themselves
        assert capability.falls_back_to in (None, *NAMES)
        assert capability.noun == noun_for(capability.kind)
        assert capability.noun.startswith(("a ", "an ")) and capability.noun.endswith(" model")


def test_the_catalog_accepts_exactly_the_capabilities_as_needs() -> None:
    document = yaml.safe_load(CATALOG.read_text())
    assert {need for feature in parse_catalog(document) for need in feature.needs} <= set(NAMES)
    document["features"][0]["needs"] = ["telepathy"]  # not a capability
    with pytest.raises(CatalogError, match="telepathy"):
        parse_catalog(document)
    # the shipped schema names no capability itself: the table is the one list
    assert "speech" not in SCHEMA.read_text()


def test_the_command_line_has_one_model_option_per_capability() -> None:
    run = build_parser()._subparsers._group_actions[0].choices["run"]  # type: ignore[union-attr]
    options = {option for action in run._actions for option in action.option_strings}
    assert {f"--{c.option}" for c in CAPABILITIES} <= options
    args = run.parse_args([f"--{c.option}={c.name}-model" for c in CAPABILITIES])
    assert {c.name: getattr(args, c.option.replace("-", "_")) for c in CAPABILITIES} == {
        c.name: f"{c.name}-model" for c in CAPABILITIES
    }


def test_the_plugin_has_one_model_option_per_capability() -> None:
    names: list[str] = []

    class Group:
        def addoption(self, *opts: str, **_: Any) -> None:
            names.extend(opts)

    class Parser:
        def getgroup(self, *_: Any) -> Group:
            return Group()

        def addini(self, *_: Any, **__: Any) -> None:  # every option is also an ini key
            pass

    pytest_addoption(Parser())  # type: ignore[arg-type]
    assert {f"--conformance-{c.option}" for c in CAPABILITIES} <= set(names)


def test_a_target_file_accepts_every_capability_and_nothing_else(tmp_path: Path) -> None:
    config = tmp_path / "target.yaml"
    config.write_text("models:\n" + "".join(f"  {c.name}: {c.name}-model\n" for c in CAPABILITIES))
    env = {"OPENAI_API_KEY": "k"}
    target = resolve_target(base_url="http://127.0.0.1:9/v1", config_path=config, environ=env)
    assert target is not None and dict(target.models) == {c.name: f"{c.name}-model" for c in CAPABILITIES}
    config.write_text("models:\n  telepathy: m\n  chat: c\n")
    with pytest.raises(ConfigError, match="unknown capability 'telepathy'"):
        resolve_target(base_url="http://127.0.0.1:9/v1", config_path=config, environ=env)


def test_a_capability_with_a_fallback_uses_it() -> None:
    target = resolve_target(base_url="http://127.0.0.1:9/v1", models={"chat": "c"}, environ={"OPENAI_API_KEY": "k"})
    assert target is not None
    for capability in CAPABILITIES:
        if capability.falls_back_to == "chat":
            assert target.models[capability.name] == "c"
        elif capability.name != "chat":
            assert capability.name not in target.models


def test_the_mock_serves_each_capability_with_a_model_of_its_kind() -> None:
    served = {model.id: model for model in DEFAULT_MODELS}
    assert {model.kind for model in DEFAULT_MODELS} == set(KINDS)
    for capability in CAPABILITIES:
        model = served[capability.mock_model]
        assert model.kind == capability.kind, capability.name
        assert model.rate_limited == (capability.name == "rate_limited")


def test_the_embedded_mock_target_configures_every_capability() -> None:
    with embedded_target(models={"vision": "mock-org/mock-chat"}) as target:
        assert target.embedded_mock and target.name == "reference mock"
        assert dict(target.models) == {**mock_models(), "vision": "mock-org/mock-chat"}
    with embedded_target(quirks=["stream.done_missing"]) as target:
        assert target.name == "reference mock with stream.done_missing"
    with pytest.raises(ConfigError, match="no-such-quirk"):
        embedded_target(quirks=["no-such-quirk"]).__enter__()


def test_vendor_profiles_name_only_known_capabilities_and_models_of_the_right_kind() -> None:
    for profile in PROFILES.values():
        assert set(profile.target_models) <= set(NAMES), profile.id
        kinds = {model.id: model.kind for model in profile.models or DEFAULT_MODELS}
        for capability, model in profile.target_models.items():
            if model in kinds and BY_NAME[capability].probed_when_absent and kinds[model] == "chat":
                continue  # probing an absent endpoint with the chat model, on purpose
            assert kinds.get(model) in (BY_NAME[capability].kind, None), (profile.id, capability, model)


def test_probing_absent_endpoints_covers_the_capabilities_the_table_marks() -> None:
    probed = probing_absent(chat="c")
    assert {name for name, model in probed.items() if name != "chat"} == {
        c.name for c in CAPABILITIES if c.probed_when_absent
    }
