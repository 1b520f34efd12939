"""What several sweeps drawn together can be compared on: the training budget, the model family.

The rule, on the sweeps of one report (after ``--strategies``):

- **by budget** (Bello et al. 2021: rankings of scaling strategies flip with
  the training budget): at least two sweeps, each of one model on one data
  set, all the same model and data, every sweep a different budget
  (``train.budget`` and ``train.epochs``), and no other difference in what
  decides learning: their recorded configs agree once the keys that do not
  (:data:`IGNORED`, ``train.*`` watching keys) and the budget are set aside.
- **by family** (EfficientNet's Figure 1): at least two models, one data set.

When sweeps come close to a comparison but miss it, one line says why
(:attr:`Comparison.notes`), so a missing figure is explained, not a mystery.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from bench.analysis.text import budget_label
from bench.schema import Train

# Config keys that never decide what a point learns, or differ per point by design.
IGNORED = frozenset(
    {"strategy", "phi", "seed", "sweep", "runs_dir", "device", "threads", "logger", "plot", "eval",
     "plan", "search", "train.budget", "train.epochs"}
    | {f"train.{key}" for key in Train.WATCHING}
    | {f"data.{key}" for key in ("path", "root", "download", "workers", "cache_dir")}
    | {f"data.{key}" for key in ("in_memory", "memory_limit_gb")}
)  # fmt: skip


@dataclass(frozen=True)
class Comparison:
    """Which cross-sweep figures a report draws, each sweep's budget, and why not when not."""

    by_budget: bool
    by_family: bool
    budgets: dict[str, str] = field(default_factory=dict)  # sweep -> "2 epochs"
    notes: list[str] = field(default_factory=list)


def compare(table: pd.DataFrame, results: Mapping[str, list[dict[str, Any]]]) -> Comparison:
    """Apply the module's rule to the sweeps of ``table`` (``results``: their result dicts)."""
    sweeps = list(dict.fromkeys(table["sweep"]))
    if len(sweeps) < 2:
        return Comparison(False, False)
    rows = {s: table[table["sweep"] == s] for s in sweeps}
    budgets = {s: budget_label(r) for s, r in rows.items()}
    models = {s: set(r["model"].dropna()) for s, r in rows.items()}
    datas = {s: set(r["data"].dropna()) for s, r in rows.items()}
    all_models, all_datas = set().union(*models.values()), set().union(*datas.values())
    notes = []
    by_family = len(all_models) > 1 and len(all_datas) == 1
    if len(all_models) > 1 and len(all_datas) > 1:
        notes.append(f"no cross-family figure: the sweeps differ in data ({_names(all_datas)})")
    single = all(len(models[s]) == 1 and len(datas[s]) == 1 for s in sweeps)
    by_budget = single and len(all_models) == 1 and len(all_datas) == 1
    if by_budget and len(set(budgets.values())) < len(sweeps):
        same = [s for s in sweeps if list(budgets.values()).count(budgets[s]) > 1]
        notes.append(f"no by-budget comparison: {_names(same)} share a budget")
        by_budget = False
    if by_budget:
        differ = recipe_differences([r for s in sweeps for r in results.get(s, [])[:1]])
        if differ:
            notes.append(f"no by-budget comparison: the sweeps also differ in {_names(differ)}")
            by_budget = False
    return Comparison(by_budget, by_family, budgets, notes)


def recipe_differences(results: list[dict[str, Any]]) -> list[str]:
    """Config keys (dotted) whose values differ between the results, :data:`IGNORED` aside."""
    flat = [_flatten(r.get("config") or {}) for r in results]
    keys = sorted(set().union(*flat)) if flat else []
    return [k for k in keys if not _ignored(k) and len({repr(f.get(k)) for f in flat}) > 1]


def _ignored(key: str) -> bool:
    parts = key.split(".")
    return any(".".join(parts[:n]) in IGNORED for n in range(1, len(parts) + 1))


def _flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= _flatten(value, f"{name}.")
        else:
            out[name] = value
    return out


def _names(values: object) -> str:
    return ", ".join(sorted(str(v) for v in values))  # type: ignore[attr-defined]
