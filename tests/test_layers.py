"""The layers of DESIGN.md import one way: each module imports only from layers before its
own, never another package's underscore names, and no two modules import each other (even
through others). Read from the source with ast, so imports inside functions and under
TYPE_CHECKING count too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
LAYERS = [
    {"errors"},
    {"types", "kinds"},
    {"media"},
    {"models"},
    {"analyzers"},
    {"store"},
    {"search"},
    {"indexing"},
    {"agent"},
    {"library"},
    {"eval"},
    # the interfaces: shared JSON views and exports, then REST and MCP, then the CLI that
    # starts them
    {"views", "export"},
    {"server", "mcp"},
    {"cli"},
    {"__main__"},
]
"""Top-level parts of `vidseek`, in the order data flows; ``vidseek`` itself (its lazy
``__init__``) stands outside."""
SYNTH = "synth"  # test media beside the layers: uses types, errors and media only
SYNTH_USERS = {"eval", "cli"}  # the needle benchmark and `vidseek synth` make test videos


def _layer(part: str) -> int:
    for rank, parts in enumerate(LAYERS):
        if part in parts:
            return rank
    raise AssertionError(f"vidseek.{part} is in no layer of tests/test_layers.py")


def _modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "vidseek").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(module imported, name taken from it or None, line) for every vidseek import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno) for a in node.names
                      if a.name.split(".")[0] == "vidseek"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            if base.split(".")[0] != "vidseek":
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in MODULES:  # a submodule, not a name
                    found.append((sub, None, node.lineno))
                else:
                    found.append((base, alias.name, node.lineno))
    return found


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _package(module: str) -> str:
    is_package = MODULES.get(module, Path()).name == "__init__.py"
    return module if is_package else module.rpartition(".")[0]


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def test_every_module_is_in_a_layer():
    for name in MODULES:
        if name != "vidseek":
            assert _part(name) == SYNTH or _layer(_part(name)) >= 0


def test_imports_follow_the_layer_order():
    wrong = []
    for name, imports in GRAPH.items():
        here = _part(name)
        if name == "vidseek":
            continue
        for target, _, line in imports:
            there = _part(target)
            if there in ("", here):  # vidseek itself (__version__), or its own part
                continue
            if here == SYNTH:
                ok = there in ("types", "errors", "media")
            elif there == SYNTH:
                ok = here in SYNTH_USERS
            else:
                ok = _layer(there) < _layer(here)
            if not ok:
                wrong.append(f"{MODULES[name].relative_to(SRC)}:{line} imports {target}")
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_no_underscore_names_from_other_packages():
    wrong = []
    for name, imports in GRAPH.items():
        for target, taken, line in imports:
            private = [p for p in [*target.split(".")[1:], taken or ""] if p.startswith("_")
                       and not p.startswith("__")]
            if private and _package(target) != _package(name) and target != _package(name):
                wrong.append(f"{MODULES[name].relative_to(SRC)}:{line} takes "
                             f"{target}{'.' + taken if taken else ''}")
    assert not wrong, "underscore names used outside their package:\n" + "\n".join(wrong)


def test_no_import_cycles():
    edges = {name: {t for t, _, _ in imports if t in MODULES and t != name}
             for name, imports in GRAPH.items()}
    # A package's __init__ re-exporting its own modules is the package, not a cycle.
    for name in edges:
        edges[name] = {t for t in edges[name] if not (
            MODULES[t].name == "__init__.py" and name.startswith(t + "."))}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    assert not cycles, f"import cycles: {cycles}"


@pytest.mark.parametrize("bad, line", [
    ("from vidseek.library import Library", "imports vidseek.library"),
])
def test_the_check_finds_a_wrong_import(tmp_path, bad, line):
    """The walk really reads imports: an agent module importing the library is caught."""
    name = "vidseek.agent.probe_module"
    path = tmp_path / "probe_module.py"
    path.write_text(f"def f():\n    {bad}\n")
    [(target, taken, _)] = _imports(name, path)
    assert _layer(_part(target)) > _layer(_part(name)) and line.endswith(target)
