"""The package reaches its libraries (botocore, urllib3, rich, python-hcl2, lark, PyYAML, typer, ...)
through their public names only: a private module or name (`from rich._wrap import ...`), a private
attribute of a library's object (`client._endpoint`, `session._manager`), or another object's `__dict__`
is a seam the library may move in any release, and our pins let most of them move.

Read from the source (ast), every module of the package: an attribute `x._name` counts as ours when the
package itself defines `_name` somewhere (a function, a class attribute, `self._name = ...`); any other is
a library's. (A library private that happens to share a name with one of ours would slip through.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "auditor"
PUBLIC = {
    ("os", "_exit"),  # documented: exit without cleanup (the CLI's fast exit)
}
NAMEDTUPLE_API = {"_replace", "_make", "_asdict", "_fields", "_field_defaults"}  # public, underscored to avoid field names
def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _modules() -> list[tuple[str, ast.Module]]:
    return [(path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"), str(path)))
            for path in sorted(PACKAGE.rglob("*.py"))]


def _ours(modules: list[tuple[str, ast.Module]]) -> set[str]:
    """Every private name the package defines: functions, classes, assigned names, `self._name = ...`.
    A method of a class derived from a library's class does not count (it may override the library's
    private method), nor does an attribute set on anything but self or cls (it may be the library's)."""
    names: set[str] = set()

    def visit(node: ast.AST, library_class: bool, imported: dict[str, str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not library_class:
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
            derived = any(_dotted(base).split(".")[0] in imported for base in node.bases)
            for child in node.body:
                visit(child, derived, imported)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _dotted(node.value) in ("self", "cls") \
                and not library_class:
            names.add(node.attr)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        for child in ast.iter_child_nodes(node):
            visit(child, library_class and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)), imported)

    for _, tree in modules:
        visit(tree, False, _imported(tree))
    return {name for name in names if _private(name)}


def _imported(tree: ast.Module) -> dict[str, str]:
    """Local name -> module, for every name the module imports from a library (anywhere in it)."""
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update({(alias.asname or alias.name).split(".")[0]: alias.name for alias in node.names
                             if _library(alias.name)})
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _library(node.module):
            imported.update({alias.asname or alias.name: f"{node.module}.{alias.name}" for alias in node.names})
    return imported


def _library(module: str | None) -> bool:
    return bool(module) and module.split(".")[0] not in ("auditor", "__future__")


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return f"{_dotted(node.func)}()"
    return type(node).__name__


def private_uses() -> list[tuple[str, int, str]]:
    """(module, line, what) for every use of a library's private name in the package."""
    modules = _modules()
    ours = _ours(modules)
    found = []
    for path, tree in modules:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path, node.lineno, alias.name) for alias in node.names
                          if _library(alias.name) and any(_private(part) for part in alias.name.split("."))]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and _library(node.module):
                assert node.module is not None
                if any(_private(part) for part in node.module.split(".")):
                    found.append((path, node.lineno, node.module))
                found += [(path, node.lineno, f"{node.module}.{alias.name}") for alias in node.names if _private(alias.name)]
            elif isinstance(node, ast.Attribute):
                base = _dotted(node.value)
                if node.attr == "__dict__" and base not in ("self", "cls"):
                    found.append((path, node.lineno, f"{base}.__dict__"))
                elif _private(node.attr) and node.attr not in ours and node.attr not in NAMEDTUPLE_API \
                        and (base, node.attr) not in PUBLIC:
                    found.append((path, node.lineno, f"{base}.{node.attr}"))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("getattr", "setattr", "hasattr", "delattr") and len(node.args) > 1 \
                    and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str) \
                    and _private(node.args[1].value) and node.args[1].value not in ours:
                found.append((path, node.lineno, f"{node.func.id}(..., {node.args[1].value!r})"))
    return sorted(found)


@pytest.mark.slow
def test_no_library_private_name_is_used():
    found = [(path, line, what) for path, line, what in private_uses()]
    assert found == []


def test_the_check_finds_what_it_looks_for(tmp_path, monkeypatch):
    """The check itself, on a module written with each kind of private use it must find."""
    package = tmp_path / "auditor"
    package.mkdir()
    (package / "seam.py").write_text(
        "import botocore._helpers\n"
        "from rich._wrap import divide_line\n"
        "from urllib3 import _collections\n"
        "import os\n"
        "from botocore.awsrequest import AWSHTTPConnection\n"
        "\n"
        "class Ours:\n"
        "    def __init__(self):\n"
        "        self._own = 1\n"
        "\n"
        "def poke(client, session, old, ours, row):\n"
        "    client._endpoint.http_session = None\n"
        "    session.__dict__.update(old.__dict__)\n"
        "    getattr(session, '_manager')\n"
        "    session._pool_classes_by_scheme = {}\n"
        "    row._replace(a=1)\n"
        "    os._exit(0)\n"
        "    return ours._own\n"
        "\n"
        "class Connection(AWSHTTPConnection):\n"
        "    def _new_conn(self):\n"
        "        return super()._new_conn()\n")
    monkeypatch.setattr(f"{__name__}.PACKAGE", package)
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert [(line, what) for _, line, what in private_uses()] == [
        (1, "botocore._helpers"), (2, "rich._wrap"), (3, "urllib3._collections"), (12, "client._endpoint"),
        (13, "old.__dict__"), (13, "session.__dict__"), (14, "getattr(..., '_manager')"),
        (15, "session._pool_classes_by_scheme"), (22, "super()._new_conn"),
    ]
