"""Which code a report may import: result files name model builders and strategy classes.

A results folder can come from anyone, and importing a module runs it: a
result.json naming ``evilmod.build``, with ``evilmod.py`` in the working
folder, would run that file. The report therefore imports nothing a result
names, except scalebench's own modules, the modules of configs the user
composed (a sweep's own end), and anything when the user says so
(``bench.plot --trust-code``). Only the CAM grid needs the model; every other
figure and table is drawn from the numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

OWN = "bench."  # scalebench's own modules


def named_modules(result: dict[str, Any]) -> set[str]:
    """The modules a result's config would make the report import (builder, strategy class)."""
    config = result.get("config") or {}
    paths = [
        (config.get("model") or {}).get("builder"),
        (config.get("strategy") or {}).get("_target_"),
    ]
    return {str(p).rpartition(".")[0] for p in paths if p}


def untrusted(results: Iterable[dict[str, Any]], trusted: Iterable[str] = ()) -> list[str]:
    """The modules results name that are neither scalebench's nor in ``trusted``, sorted."""
    allowed = set(trusted)
    named = set().union(*(named_modules(r) for r in results))
    return sorted(m for m in named if not m.startswith(OWN) and m not in allowed)
