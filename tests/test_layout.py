"""The package's shape: no import cycles, and no private name used outside its module.

Both are read from the source (every ``import`` and ``from ... import`` of the package's own
modules, at module level or inside a function), so a cycle that only a lazy import hides
still fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "calvingfronts"
# Code outside the package that uses it: its names there must be public too.
USERS = ("workflow/scripts", "workflow/rules", "tools", "benchmarks", "tests", "docs")
SMK_IMPORT = re.compile(r"^from calvingfronts[\w.]* import (?:\([^)]*\)|.*)$", re.MULTILINE)


def module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def imported(tree: ast.AST, modules) -> list[tuple[str, str]]:
    """(module, name) for every import of the package in ``tree``; name is '' for a whole
    module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] != "calvingfronts":
                continue
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                if submodule in modules:
                    found.append((submodule, ""))
                else:
                    found.append((node.module, alias.name))
        elif isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names if a.name.startswith("calvingfronts.")]
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    graph = {}
    for name, path in modules.items():
        targets = {m for m, _ in imported(ast.parse(path.read_text()), modules) if m in modules}
        graph[name] = targets - {name, "calvingfronts"}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_package_imports_in_no_cycle():
    graph = import_graph()
    assert len(graph) > 60  # the whole package was read
    assert "calvingfronts.fronts.vectorize" in graph["calvingfronts.workflow.pipeline"]
    assert cycles(graph) == []


def test_no_private_name_is_imported_from_another_module():
    modules = module_names()
    files = list(PACKAGE.rglob("*.py"))
    for folder in USERS:
        files += [p for p in (REPO / folder).rglob("*") if p.suffix in (".py", ".smk")]
    offenders = []
    for path in files:
        text = path.read_text()
        if path.suffix == ".smk":  # Snakemake's rules: only their Python import statements
            text = "\n".join(SMK_IMPORT.findall(text))
        for module, name in imported(ast.parse(text), modules):
            if name.startswith("_") and not name.startswith("__"):
                offenders.append(f"{path.relative_to(REPO)}: {module}.{name}")
    assert offenders == []


def test_stages_are_folders():
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    assert top == ["cli", "config", "grid", "help_text", "logs", "raster_io", "rejection"]
    for stage in ("scenes", "sources", "glaciers", "preprocess", "inference", "fronts"):
        assert (PACKAGE / stage / "__init__.py").exists(), stage
    for stage in ("timeseries", "synthetic", "evaluation", "report", "workflow", "training"):
        assert (PACKAGE / stage / "__init__.py").exists(), stage


def test_the_checkout_is_found_from_the_package_folder():
    """The default model is looked for in the checkout an editable install points at, found
    from the module's own path: a move of the module must move that count too."""
    import calvingfronts
    from calvingfronts.inference.default_model import CHECKOUT

    if Path(calvingfronts.__file__).resolve().is_relative_to(REPO / "src"):
        assert CHECKOUT == REPO
    else:  # an installed copy: no checkout above it
        assert not (CHECKOUT / "pyproject.toml").exists() or CHECKOUT != REPO
