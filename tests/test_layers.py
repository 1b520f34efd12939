"""bench's rooms import only downward: every import (function-level and ``TYPE_CHECKING`` ones
too) goes to the importer's own layer or a lower one, and no two rooms import each other.

``TYPE_CHECKING`` imports count: a type named across an upward arrow is still a dependency a
reader must climb to, and moving the type down is what removes it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Bottom to top. A module's layer is that of the longest prefix listed here.
LAYERS: dict[str, int] = {
    # 0 the floor: shared vocabulary
    "bench": 0,
    "bench.errors": 0,
    "bench.cache": 0,
    "bench.store": 0,
    "bench.schema": 0,
    "bench.schema_types": 0,
    "bench.schema_bases": 0,
    "bench.provenance": 0,
    "bench.record": 0,
    # 1 configuration: composing and the one-line check
    "bench.config": 1,
    # 2 what a point is made of
    "bench.hardware": 2,
    "bench.data": 2,
    "bench.models": 2,
    # 3 scaling a network to a budget, planning a point
    "bench.scaling": 3,
    # 4 a whole run's config checked, a point's folder guarded
    "bench.validate": 4,
    "bench.places": 4,
    "bench.claims": 4,
    # 5 training a point and tracking it
    "bench.track": 5,
    "bench.train": 5,
    # 6 reading results
    "bench.analysis": 6,
    "bench.report": 6,
    # 7 running a sweep
    "bench.sweep": 7,
    # 8 commands
    "bench.run": 8,
    "bench.plan": 8,
    "bench.plot": 8,
    "bench.search": 8,
    "bench.reference": 8,
}

# Old import paths kept for users' configs and code: each re-exports one module and takes its
# layer and room, so it may import that module and nothing above it.
SHIMS: dict[str, str] = {
    "bench.config.bases": "bench.schema_bases",
    "bench.config.types": "bench.schema_types",
    "bench.config.places": "bench.places",
    "bench.config.reference": "bench.reference",
    "bench.config.validate": "bench.validate",
    "bench.sweep.claims": "bench.claims",
    "bench.train.provenance": "bench.provenance",
}

# Upward arrows not fixed yet, each with why; the list only shrinks (a stale entry fails).
KNOWN_UPWARD: dict[tuple[str, str], str] = {}


def module_name(path: Path, root: Path) -> str:
    """``bench.x.y`` for ``root/bench/x/y.py`` (a package's ``__init__`` is the package)."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path, package: str = "bench") -> dict[str, set[str]]:
    """Every module of ``package`` under ``root`` and the modules of ``package`` it imports,
    anywhere in its body; ``from a import b`` counts as ``a.b`` when that is a module."""
    files = {module_name(p, root): p for p in sorted((root / package).rglob("*.py"))}
    found: dict[str, set[str]] = {}
    for name, path in files.items():
        targets: set[str] = set()
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    here = name.split(".") if is_package else name.split(".")[:-1]
                    here = here[: len(here) - node.level + 1]
                    base = ".".join([*here, base] if base else here)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.add(sub if sub in files else base)
        found[name] = {t for t in targets if t == package or t.startswith(package + ".")}
        found[name].discard(name)
    return found


def layer_of(module: str, layers: dict[str, int], shims: dict[str, str]) -> tuple[str, int]:
    """``module``'s room (the longest prefix in ``layers``) and its layer; a shim's are its
    target's."""
    module = shims.get(module, module)
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in layers:
            return prefix, layers[prefix]
    raise KeyError(f"{module} has no layer: add it (or its room) to LAYERS in tests/test_layers.py")


def upward(
    graph: dict[str, set[str]], layers: dict[str, int], shims: dict[str, str]
) -> list[tuple[str, str, int, int]]:
    """Each import ``(importer, imported, importer's layer, imported's layer)`` that climbs."""
    found = []
    for module, targets in sorted(graph.items()):
        _, low = layer_of(module, layers, shims)
        for target in sorted(targets):
            _, high = layer_of(target, layers, shims)
            if high > low:
                found.append((module, target, low, high))
    return found


def room_circles(
    graph: dict[str, set[str]],
    layers: dict[str, int],
    shims: dict[str, str],
    skip: Iterable[tuple[str, str]] = (),
) -> list[list[str]]:
    """The sets of rooms that import each other (strongly connected, more than one room)."""
    skip = set(skip)
    rooms: dict[str, set[str]] = {}
    for module, targets in graph.items():
        a, _ = layer_of(module, layers, shims)
        rooms.setdefault(a, set())
        for target in targets:
            b, _ = layer_of(target, layers, shims)
            if a != b and (module, target) not in skip:
                rooms[a].add(b)
                rooms.setdefault(b, set())
    return [sorted(c) for c in _components(rooms) if len(c) > 1]


def _components(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components of a small graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            out.append(component)

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_every_import_goes_down_or_sideways():
    graph = imports(ROOT)
    climbs = upward(graph, LAYERS, SHIMS)
    new = [
        f"{a} (layer {la}) imports {b} (layer {lb})"
        for a, b, la, lb in climbs
        if (a, b) not in KNOWN_UPWARD
    ]
    assert not new, "upward imports:\n" + "\n".join(new)
    stale = sorted(set(KNOWN_UPWARD) - {(a, b) for a, b, _, _ in climbs})
    assert not stale, f"fixed, remove from KNOWN_UPWARD: {stale}"


def test_no_two_rooms_import_each_other():
    circles = room_circles(imports(ROOT), LAYERS, SHIMS, skip=KNOWN_UPWARD)
    assert not circles, f"rooms that import each other: {circles}"


def test_shims_only_re_export_their_module():
    graph = imports(ROOT)
    for shim, target in SHIMS.items():
        assert shim in graph, f"{shim} is listed as a shim but is not a module"
        assert target in graph[shim], f"{shim} does not import {target}"


# Modules that import each other inside one room, not untangled yet; the list only shrinks.
KNOWN_MODULE_CIRCLES: dict[tuple[str, ...], str] = {}


def module_circles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The sets of modules that import each other (the checkpoint and the loop once did)."""
    edges = {m: {t for t in targets if t in graph} for m, targets in graph.items()}
    return sorted(tuple(sorted(c)) for c in _components(edges) if len(c) > 1)


def test_no_two_modules_import_each_other():
    circles = module_circles(imports(ROOT))
    new = [c for c in circles if c not in KNOWN_MODULE_CIRCLES]
    assert not new, f"modules that import each other: {new}"
    stale = sorted(set(KNOWN_MODULE_CIRCLES) - set(circles))
    assert not stale, f"untangled, remove from KNOWN_MODULE_CIRCLES: {stale}"


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_an_upward_import_in_a_function_is_caught(tmp_path):
    _write(
        tmp_path,
        {
            "bench/__init__.py": "",
            "bench/errors.py": "",
            "bench/models/__init__.py": "def f():\n    from bench.train import loop\n",
            "bench/train/__init__.py": "",
            "bench/train/loop.py": "from ..models import f\nfrom bench import errors\n",
        },
    )
    graph = imports(tmp_path)
    assert graph["bench.train.loop"] == {"bench.models", "bench.errors"}
    assert upward(graph, LAYERS, {}) == [("bench.models", "bench.train.loop", 2, 5)]
    assert room_circles(graph, LAYERS, {}) == [["bench.models", "bench.train"]]
    assert module_circles(graph) == [("bench.models", "bench.train.loop")]
    # listed as a shim of a training module, models' import no longer climbs
    shims = {"bench.models": "bench.train.shim"}
    assert upward(graph, LAYERS, shims) == []


def test_a_module_without_a_layer_is_named():
    with pytest.raises(KeyError, match="bench_extra.x has no layer"):
        layer_of("bench_extra.x", LAYERS, {})
