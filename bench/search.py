"""``python -m bench.search``: EfficientNet's step 1 for any model and data.

Fix phi = 1 and grid-search alpha, beta, gamma >= 1 under
alpha * beta^2 * gamma^2 ~ 2, train every candidate through the runner's
own machinery (same budget rules, results store, resume, W&B, launchers,
shared points), rank by validation top-1 (mean over ``search.seeds``; ties go
to fewer activations), draw the grid, and write the winner as a strategy
config that ``strategy=<name>`` picks up at once:

    python -m bench.search                                  # vgg_tiny on shapes, small grid
    python -m bench.search model=resnet18 data=cifar10 search.seeds=3 hydra/launcher=joblib

It is ``bench.run`` under a different Hydra sweeper
(``hydra_plugins/scalebench``): the sweeper enumerates the grid and
hands the jobs to whichever launcher is configured. By default every
candidate is trained at exactly twice the baseline's MACs in its direction
(``search.mode=matched``), so candidates are compared at equal FLOPs;
``search.mode=literal`` trains d = alpha, w = beta, r = gamma as they are.

Nothing is chosen on the test split: the ranking is by top-1 on the
validation split held out of the training data (``data.val_fraction``, 0.1
in ``conf/search.yaml``; 0 is refused), and each candidate's test top-1 is
reported beside it. Picking the best of many test-split numbers would report
the luckiest of them as the winner's accuracy.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
import pandas as pd

from bench.analysis.stats import mean_ci
from bench.config.compose import CONF_DIR
from bench.errors import UserError
from bench.schema import Run, Search
from bench.store import atomic_write_text, point_name, read_json_or_none

log = logging.getLogger("bench.search")

PAPER = (1.2, 1.1, 1.15)  # EfficientNet-B0 on ImageNet
RANKED_ON = "val_top1"  # the result key candidates are ranked by (the validation split's)
PERCENT = ("val_top1", "val_ci95", "top1", "ci95")  # ranking columns printed in percent


@dataclass(frozen=True)
class Candidate:
    """One (alpha, beta, gamma) of the grid."""

    alpha: float
    beta: float
    gamma: float

    @property
    def product(self) -> float:
        """alpha * beta^2 * gamma^2: the MAC growth per unit of phi in literal form."""
        return self.alpha * self.beta**2 * self.gamma**2

    @property
    def name(self) -> str:
        """The candidate's strategy name, which names its point folder."""
        return f"search_a{self.alpha:.3f}_b{self.beta:.3f}_g{self.gamma:.3f}"

    @property
    def label(self) -> str:
        """Short axis label."""
        return f"{self.alpha:g}/{self.beta:g}/{self.gamma:g}"

    def is_paper(self) -> bool:
        """Whether this is EfficientNet's 1.2 / 1.1 / 1.15."""
        pairs = zip(self.astuple(), PAPER, strict=True)
        return all(math.isclose(x, p, abs_tol=1e-9) for x, p in pairs)

    def astuple(self) -> tuple[float, float, float]:
        """(alpha, beta, gamma)."""
        return (self.alpha, self.beta, self.gamma)


def _axis(lo: float, hi: float, step: float) -> list[float]:
    n = int(math.floor((hi - lo) / step + 1e-9))
    return [round(lo + i * step, 6) for i in range(n + 1)]


def grid(search: Search) -> list[Candidate]:
    """Candidates on the grid with every factor >= 1 and |product - 2| <= tolerance.

    The paper's (1.2, 1.1, 1.15) is added when it lies inside the grid's
    bounds and the tolerance, even if the step does not land on it.
    """
    lo, hi, step, tol = search.min, search.max, search.step, search.tolerance
    axis = _axis(lo, hi, step)
    out = [
        Candidate(a, b, g)
        for a in axis
        for b in axis
        for g in axis
        if abs(a * b * b * g * g - 2.0) <= tol
    ]
    paper = Candidate(*PAPER)
    inside = all(lo <= x <= hi for x in PAPER) and abs(paper.product - 2.0) <= tol
    if inside and not any(c.is_paper() for c in out):
        out.append(paper)
    if not out:
        raise UserError(
            f"no (alpha, beta, gamma) on the grid {lo}..{hi} step {step} has "
            f"alpha*beta^2*gamma^2 within {tol} of 2; widen search.tolerance or search.max"
        )
    return sorted(out, key=lambda c: c.astuple())


def realizable(config: Run, candidates: list[Candidate]) -> list[Candidate]:
    """The candidates whose phi = 1 network can be built within ``plan.tolerance`` of 2x MACs.

    On a small network a direction can fall between two rounding steps
    (depth moves one block per stage at a time); such candidates are skipped
    with a one-line note rather than trained off budget.
    """
    from bench.plan import planner_for
    from bench.scaling.strategies import Compound

    assert config.search is not None
    planner = planner_for(config)
    kept = []
    for c in candidates:
        strategy = Compound(
            name=c.name, alpha=c.alpha, beta=c.beta, gamma=c.gamma, mode=config.search.mode
        )
        point = planner.solve(strategy, 1.0)
        if not point.within_tolerance:  # candidates are compared at equal FLOPs: no misses
            log.warning("skipping alpha/beta/gamma=%s: %s", c.label, point.note)
        else:
            kept.append(c)
    if not kept:
        raise UserError("no candidate of the grid can be built at 2x MACs; see the notes above")
    return kept


def job_overrides(cand: Candidate, seed: int, mode: str) -> list[str]:
    """The ``bench.run`` overrides that train one candidate at phi = 1."""
    return [
        "strategy=compound",
        f"strategy.name={cand.name}",
        f"strategy.alpha={cand.alpha}",
        f"strategy.beta={cand.beta}",
        f"strategy.gamma={cand.gamma}",
        f"strategy.mode={mode}",
        "phi=1",
        f"seed={seed}",
    ]


def rank(sweep_dir: Path, candidates: list[Candidate], seeds: list[int]) -> pd.DataFrame:
    """Candidates ranked by mean validation top-1 (``val_top1``), ties to fewer activations;
    the mean test top-1 of the same seeds is reported beside it (``top1``), never ranked on.
    ``ranked_on`` says so in every row."""
    rows = []
    for c in candidates:
        vals, accs, acts, statuses = [], [], [], []
        for s in seeds:
            r = read_json_or_none(Path(sweep_dir) / point_name(c.name, 1.0, s) / "result.json")
            if r is None:
                statuses.append("missing")
                continue
            statuses.append(r.get("status", "failed"))
            if r.get("status") == "ok" and r.get(RANKED_ON) is not None:
                vals.append(float(r[RANKED_ON]))
                accs.append(float(r["top1"]))
                acts.append(int(r["activations"]))
        val, val_half = mean_ci(vals)
        mean, half = mean_ci(accs)
        rows.append(
            {
                "alpha": c.alpha,
                "beta": c.beta,
                "gamma": c.gamma,
                "product": c.product,
                "val_top1": val,
                "val_ci95": val_half,
                "top1": mean,
                "ci95": half,
                "seeds_ok": len(vals),
                "activations": min(acts) if acts else None,
                "paper": c.is_paper(),
                "statuses": ",".join(statuses),
                "label": c.label,
                "ranked_on": RANKED_ON,
            }
        )
    table = pd.DataFrame(rows)
    table = table.sort_values(
        ["val_top1", "activations"], ascending=[False, True], na_position="last", kind="stable"
    ).reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table


def _pct(mean: float, half: float) -> str:
    spread = "" if math.isnan(half) else f" +- {100 * half:.2f}"
    return f"{100 * mean:.2f}%{spread}"


def strategy_yaml(name: str, winner: Mapping[str, Any], config: Run, mode: str) -> str:
    """The winner as a strategy config in the same form as conf/strategy/compound.yaml; its
    comment says it was chosen on validation top-1 and gives the test top-1 as reported."""
    return (
        f"# Found by `python -m bench.search` on {time.strftime('%Y-%m-%d')}:"
        f" model={config.model.name} data={config.data.name},\n"
        f"# phi=1 grid, chosen on validation top-1 (data.val_fraction={config.data.val_fraction:g})"
        f" {_pct(winner['val_top1'], winner['val_ci95'])} over {winner['seeds_ok']} seed(s);\n"
        f"# test top-1 {_pct(winner['top1'], winner['ci95'])} (reported, not chosen on);"
        f" sweep {config.sweep}.\n"
        "_target_: bench.scaling.strategies.Compound\n"
        f"name: {name}\n"
        f"alpha: {winner['alpha']}\n"
        f"beta: {winner['beta']}\n"
        f"gamma: {winner['gamma']}\n"
        f"mode: {mode}\n"
    )


def output_path(config: Run) -> tuple[Path, str]:
    """Where the winner goes and the strategy name it gets.

    By default the checkout's ``conf/strategy/``; an installed copy's configs
    are not the user's to change, so there ``./conf/strategy/`` instead,
    used with ``--config-dir conf``.
    """
    assert config.search is not None
    if config.search.out:
        path = Path(config.search.out).expanduser()
        return path, path.stem
    name = f"compound_{config.model.name}_{config.data.name}"
    installed = CONF_DIR.parent.name == "bench"
    folder = Path("conf") if installed else CONF_DIR
    return folder / "strategy" / f"{name}.yaml", name


def draw(table: pd.DataFrame, out_dir: Path, title: str) -> list[Path]:
    """Validation top-1 of every candidate with its 95% interval (what ranks them), the test
    top-1 beside it (reported only); the winner and the paper's point marked."""
    import matplotlib.pyplot as plt

    from bench.report.style import PALETTE, RC, save_figure

    shown = table.dropna(subset=["val_top1"]).sort_values("product")
    with plt.rc_context(RC):
        fig, ax = plt.subplots(
            figsize=(max(3.4, 0.28 * len(shown) + 2.0), 2.6), layout="constrained"
        )
        x = range(len(shown))
        err = shown["val_ci95"].fillna(0) * 100
        ax.errorbar(x, shown["val_top1"] * 100, yerr=err, fmt="o", color=PALETTE[0], ms=4,
                    capsize=2, label="validation (ranked on)")  # fmt: skip
        ax.plot(x, shown["top1"] * 100, marker="o", ms=4, mfc="none", mec="0.5", ls="",
                label="test (reported)")  # fmt: skip
        best = shown["rank"].idxmin() if len(shown) else None
        for pos, (idx, row) in enumerate(shown.iterrows()):
            if idx == best:
                ax.plot(pos, row.val_top1 * 100, marker="*", ms=12, color=PALETTE[1], ls="",
                        label="winner")  # fmt: skip
            if row.paper:
                ax.plot(pos, row.val_top1 * 100, marker="s", ms=8, mfc="none", mec=PALETTE[2],
                        ls="", label="paper (1.2/1.1/1.15)")  # fmt: skip
        ax.set_xticks(list(x), shown["label"], rotation=60, ha="right", fontsize=6)
        ax.set_xlabel("α / β / γ  (sorted by αβ²γ²)")
        ax.set_ylabel("Top-1 accuracy (%)")
        ax.set_title(title, fontsize=7)
        low, high = ax.get_ylim()
        ax.set_ylim(max(0.0, low), min(100.0, high))
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    try:
        return save_figure(fig, out_dir, "search_grid")
    finally:
        plt.close(fig)


def finish_search(config: Run, sweep_dir: Path, candidates: list[Candidate]) -> Path:
    """Rank on validation, print, draw and write the winner's strategy file; returns its
    path."""
    assert config.search is not None
    seeds = config.search.seed_list()
    table = rank(sweep_dir, candidates, seeds)
    atomic_write_text(sweep_dir / "search_ranking.csv", table.to_csv(index=False))
    percent = {c: (table[c] * 100).map("{:.2f}".format) for c in PERCENT}
    cols = ["rank", "alpha", "beta", "gamma", "product", *PERCENT, "seeds_ok", "paper"]
    print(
        f"ranked by validation top-1 (data.val_fraction={config.data.val_fraction:g}, mean over "
        "seeds); test top-1 is reported beside it, not ranked on",
        flush=True,
    )
    print(table.assign(**percent)[cols].to_string(index=False), flush=True)
    if table.val_top1.isna().all():
        raise UserError(f"no candidate finished training; see the result.json files in {sweep_dir}")
    title = (
        f"{config.model.name} on {config.data.name}, phi=1, {len(seeds)} seed(s),"
        " ranked on validation"
    )
    draw(table, sweep_dir / "figures", title)
    path, name = output_path(config)
    winner = table.iloc[0]
    atomic_write_text(path, strategy_yaml(name, winner, config, config.search.mode))
    extra = f" --config-dir {path.parent.parent}" if path.parent.parent != CONF_DIR else ""
    print(
        f"winner alpha={winner.alpha} beta={winner.beta} gamma={winner.gamma}"
        f" (chosen on validation top-1): {path}\n"
        f"use it with: python -m bench.plan{extra} strategy={name} phi=0,1,2",
        flush=True,
    )
    return path


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="search")
def main(cfg: Any) -> Any:
    """Hydra entry point: the coefficient sweeper calls bench.run's job function per candidate."""
    from bench.train.point import run_point

    return run_point(cfg)


if __name__ == "__main__":
    main()
