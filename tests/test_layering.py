"""The layers ARCHITECTURE.md draws, enforced: who may import whom inside ``conformance``.

Every ``import`` of a ``conformance`` module is read from the source with ``ast``, imports under
``if TYPE_CHECKING:`` and inside functions included: a cycle hidden from the interpreter is still
a cycle for a reader, and a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "conformance"
# the vocabulary the checker and the mock share: nothing of either
SHARED_VOCABULARY = {"conformance.floats", "conformance.capabilities"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The project module an imported name lives in (``conformance.sdk.client.X`` -> ``conformance.sdk.client``)."""
    while name:
        if name in modules():
            return name
        name = name.rpartition(".")[0]
    return None


@cache
def imports(module: str) -> frozenset[str]:
    """The project modules ``module`` imports, anywhere in its source."""
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    package = module if modules()[module].name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from conformance import sdk` imports the module conformance.sdk
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for name in names:
            if name.startswith("conformance"):
                resolved = _resolve(name)
                if resolved and resolved != module:
                    found.add(resolved)
    # `from conformance.sdk import x` also names the package `conformance`: that is no dependency
    found.discard("conformance")
    return frozenset(found)


def importers_of(target: str) -> Iterator[tuple[str, str]]:
    for module in modules():
        for imported in imports(module):
            if imported == target or imported.startswith(target + "."):
                yield module, imported


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# ARCHITECTURE.md's layers, bottom up: a module imports from its own layer or a lower one. Every
# module must be placed here, so a new one is placed on purpose.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("vocabulary", ("conformance", "verdict", "capabilities", "floats")),
    ("knowledge", ("catalog", "target", "expectations", "redact", "sse", "troubleshooting", "feature_list")),
    ("wire", ("wire",)),
    ("sdk", ("sdk", "envelope", "cost", "bounds", "openapi")),
    ("checking", ("context", "registry", "checks", "engine")),
    ("deciding", ("policy", "document", "causes", "regressions", "open_responses")),
    ("writing", ("report",)),
    ("front ends", ("cli", "plugin", "embedded", "__main__", "preflight", "plugin_session", "planning")),
)


def layer_of(module: str) -> int:
    """The index in LAYERS of the layer a module belongs to (the mock is apart: see its own test)."""
    for index, (_, members) in enumerate(LAYERS):
        for member in members:
            name = "conformance" if member == "conformance" else f"conformance.{member}"
            if module == name or (member != "conformance" and module.startswith(name + ".")):
                return index
    raise LookupError(module)


def test_the_walk_sees_the_project() -> None:
    assert len(modules()) > 60
    assert "conformance.verdict" in imports("conformance.engine")


def test_nothing_imports_the_command_line() -> None:
    assert [m for m, _ in importers_of("conformance.cli") if m != "conformance.__main__"] == []


def test_report_writers_read_results_and_the_policy_only() -> None:
    # writers are pure functions of results.json: they never reach back into a run (engine, wire,
    # document) and decide nothing themselves (policy decides)
    allowed = {name for _, members in LAYERS[:2] for name in members} | {"report", "policy"}
    wrong = [
        (module, imported)
        for module in modules()
        if in_package(module, "conformance.report")
        for imported in imports(module)
        if imported.removeprefix("conformance.").split(".")[0] not in allowed
    ]
    assert wrong == []


def test_checks_import_no_sibling_check_nor_anything_above_them() -> None:
    above = (
        "conformance.engine",
        "conformance.report",
        "conformance.cli",
        "conformance.plugin",
        "conformance.document",
    )
    wrong = []
    for module in modules():
        if not in_package(module, "conformance.checks") or module == "conformance.checks":
            continue
        for imported in imports(module):
            sibling = in_package(imported, "conformance.checks") and not imported.rpartition(".")[2].startswith("_")
            if sibling or any(in_package(imported, layer) for layer in above):
                wrong.append((module, imported))
    assert wrong == []


def test_the_mock_imports_nothing_of_the_checker_beyond_shared_vocabulary() -> None:
    wrong = [
        (module, imported)
        for module in modules()
        if in_package(module, "conformance.mock")
        for imported in imports(module)
        if not in_package(imported, "conformance.mock") and imported not in SHARED_VOCABULARY
    ]
    assert wrong == []


def test_the_foundations_depend_on_nothing_in_the_project() -> None:
    for module in (
        "conformance.verdict",
        "conformance.capabilities",
        "conformance.floats",
        "conformance.mock.messages",
    ):
        assert imports(module) - {"conformance.floats"} == frozenset(), module


def test_there_is_no_import_cycle() -> None:
    # Tarjan's strongly connected components over the whole graph, TYPE_CHECKING imports included
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in imports(module):
            # a package's __init__ re-exporting its own modules is no cycle (a module importing its
            # own package's __init__ still counts: that one can be)
            if in_package(imported, module):
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in modules():
        if module not in index:
            visit(module)
    assert cycles == []


def test_every_module_has_a_layer_and_imports_nothing_above_it() -> None:
    unplaced, upward = [], []
    for module in modules():
        if in_package(module, "conformance.mock"):
            continue
        try:
            mine = layer_of(module)
        except LookupError:
            unplaced.append(module)
            continue
        for imported in imports(module):
            if not in_package(imported, "conformance.mock") and layer_of(imported) > mine:
                upward.append(f"{module} ({LAYERS[mine][0]}) imports {imported} ({LAYERS[layer_of(imported)][0]})")
    assert unplaced == [] and upward == []


def test_only_front_ends_start_the_mock() -> None:
    users = {m for m, _ in importers_of("conformance.mock") if not in_package(m, "conformance.mock")}
    assert users <= {"conformance.cli", "conformance.embedded"}


def test_module_names_repeat_only_by_the_area_convention() -> None:
    # three http.py once meant three different things; now a repeated name is an area's (or an
    # endpoint's) part in checks/, mock/quirks/ and mock/handlers/, or a package-private helper
    by_role = ("conformance.checks", "conformance.mock.quirks", "conformance.mock.handlers")
    names: dict[str, list[str]] = {}
    for module, path in modules().items():
        if path.name != "__init__.py" and not path.name.startswith("_"):
            names.setdefault(path.stem, []).append(module)
    repeated = {
        name: found
        for name, found in names.items()
        if len(found) > 1 and not all(m.rpartition(".")[0] in by_role for m in found)
    }
    assert repeated == {}
