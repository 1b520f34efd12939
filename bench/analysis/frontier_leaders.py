"""Who leads the compute frontier at each training budget, and is the lead a tested one?

Budgets along the training-FLOPs axis are :func:`budget_steps`: values within
:data:`SAME_BUDGET` of each other are one budget (the points planned for one budget
differ by their networks' rounding, up to ``plan.tolerance``). At each budget every
*series* (a strategy, or the phi = 0 baseline trained longer: :mod:`bench.analysis.frontier`)
offers its best level so far (highest mean top-1 among its levels of at most that
compute); the series whose best is highest *leads by mean* (a tie keeps the previous
leader).

A lead is *decided* only by a paired test: the leading levels of every series at
that budget go through :func:`bench.analysis.decide.decisions` as the strategies of one
level (paired by seed, Holm over the budget's comparisons, ``decide.confidence``
split over the sweep's looks). This assumes what decide assumes (paired differences
roughly normal, seeds independent) and more: a seed pairs points of different
budgets (the same seed fixes initial weights and data order at every budget, but
a longer schedule sees more of it), and each series' level is its best by mean on
these same seeds, a choice the test does not correct for. The leader is
``decided`` when it wins its comparison with every other series; a *crossover*
("from about 4e14 training FLOPs, width overtakes depth") is said only when the
new leader wins its comparison with the previous one; otherwise the line says the
new leader "leads ... by mean" and why the test did not decide (one seed,
undecided, tied). The baseline is never a strategy's point.
"""

from __future__ import annotations

import pandas as pd

from bench.analysis.decide import decisions, winners
from bench.analysis.levels import strategy_order
from bench.schema import Decide

BASELINE = "baseline"  # the series of the phi = 0 levels
BASELINE_LABEL = "baseline trained longer"  # how tables and lines name it
SAME_BUDGET = 1.1  # training FLOPs within this ratio of a budget's first are that budget
STEP = "budget"  # the one level (sweep name) of a budget's table for decide


def budget_steps(flops: pd.Series) -> list[tuple[float, float]]:
    """The distinct budgets along the axis: (first, last) training FLOPs of each run of values
    within :data:`SAME_BUDGET` of the run's first."""
    steps: list[tuple[float, float]] = []
    for value in sorted(set(flops.astype(float))):
        if steps and value <= steps[-1][0] * SAME_BUDGET:
            steps[-1] = (steps[-1][0], value)
        else:
            steps.append((value, value))
    return steps


def series_order(names: pd.Series) -> list[str]:
    """The baseline first, then the strategies in :func:`strategy_order`."""
    rest = strategy_order(n for n in names if n != BASELINE)
    return ([BASELINE] if BASELINE in set(names) else []) + rest


def label(series: str) -> str:
    """What a table or figure calls a series."""
    return BASELINE_LABEL if series == BASELINE else str(series)


def named(series: str, budget: object = None) -> str:
    """What a line calls a series' level: the baseline with the budget it trained for ("the
    baseline at 4 epochs"), a strategy by its name."""
    if series != BASELINE:
        return str(series)
    return f"the baseline at {budget}" if isinstance(budget, str) else f"the {BASELINE_LABEL}"


def best_levels(levels: pd.DataFrame, at: float) -> pd.DataFrame:
    """Each series' best level by mean among its levels of at most ``at`` training FLOPs (a tie:
    the cheaper), in :func:`series_order`."""
    cheap = levels[levels["train_flops"] <= at]
    ranked = cheap.sort_values(["top1", "train_flops"], ascending=[False, True], kind="stable")
    best = ranked.drop_duplicates("strategy").set_index("strategy")
    return best.loc[[s for s in series_order(levels["strategy"]) if s in best.index]]


def budget_table(best: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """The table decide expects for one budget: the ok points of each series' best level as the
    strategies of one level (sweep :data:`STEP`, phi 1; the baseline under its label, so decide
    never reads it as its own phi = 0 baseline)."""
    keys = best.reset_index()[["sweep", "strategy", "phi"]].rename(columns={"strategy": "series"})
    mine = points.merge(keys, on=["sweep", "series", "phi"])
    return pd.DataFrame({
        "sweep": STEP, "phi": 1.0, "strategy": mine["series"].map(label), "seed": mine["seed"],
        "top1": mine["top1"], "status": "ok",
    })  # fmt: skip


def budget_decisions(
    best: pd.DataFrame, points: pd.DataFrame, decide: Decide | None, looks: int
) -> pd.DataFrame:
    """decide's comparisons of the series' best levels at one budget, named by series."""
    frame = decisions(budget_table(best, points), decide, looks)
    if frame.empty:
        return frame
    names = {BASELINE_LABEL: BASELINE}
    return frame.assign(**{c: frame[c].replace(names) for c in ("strategy", "versus", "winner")})


def leader_steps(
    levels: pd.DataFrame, points: pd.DataFrame, decide: Decide | None = None, looks: int = 1
) -> list[dict[str, object]]:
    """Per budget (:func:`budget_steps`): ``first``, ``last``, ``leader`` by mean and its
    ``previous``, ``best`` (each series' best level so far), ``decisions`` (decide's rows for
    them) and ``decided`` (the leader wins every comparison). ``points``: the frontier's ok
    points with their ``series`` (:func:`bench.analysis.frontier.series_points`)."""
    steps, leader = [], None
    for first, last in budget_steps(levels["train_flops"]):
        best = best_levels(levels, last)
        top = best["top1"].max()
        tied = list(best.index[best["top1"] == top])
        previous, leader = leader, leader if leader in tied else tied[0]
        frame = budget_decisions(best, points, decide, looks)
        won = set(winners(frame)["strategy"]) if len(frame) else set()
        steps.append({"first": first, "last": last, "leader": leader, "previous": previous,
                      "best": best, "decisions": frame, "decided": leader in won})  # fmt: skip
    return steps


def about(flops: float) -> str:
    """3.5e14: two significant digits, no plus sign, no trailing zeros."""
    mantissa, exponent = f"{flops:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


LEADER_COLUMNS = [
    "train_flops", "train_flops_last", "leader", "phi", "sweep", "budget", "top1", "seeds",
    "n_series", "decided", "verdict", "flags",
]  # fmt: skip


def leader_rows(steps: list[dict[str, object]]) -> pd.DataFrame:
    """tables/frontier_leaders.csv: per budget, the leader by mean, its level, whether the
    paired test decides its lead (``verdict`` in words) and its level's flags."""
    rows = []
    for step in steps:
        best, leader = step["best"], step["leader"]
        level = best.loc[leader]
        rows.append({
            "train_flops": step["first"], "train_flops_last": step["last"], "leader": leader,
            "phi": level["phi"], "sweep": level["sweep"], "budget": level["budget"],
            "top1": level["top1"], "seeds": int(level["n"]), "n_series": len(best),
            "decided": bool(step["decided"]), "verdict": verdict(step),
            "flags": level.get("flags", ""),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=LEADER_COLUMNS)


def verdict(step: dict[str, object]) -> str:
    """The leader's standing at one budget, in words: decided, or "leads by mean (why not)"."""
    if len(step["best"]) == 1:
        return "the only series so far (nothing to compare)"
    if step["decided"]:
        return "decided: ahead of every other series (paired test)"
    frame, leader = step["decisions"], step["leader"]
    mine = frame[(frame["strategy"] == leader) | (frame["versus"] == leader)]
    if mine["seeds"].max() < 2:
        return "leads by mean (one seed)"
    if (mine["winner"] == "tie").any():
        return "leads by mean (tied within the margin)"
    return "leads by mean (undecided)"


def crossovers(steps: list[dict[str, object]]) -> list[dict[str, object]]:
    """Where the leader by mean changes: ``train_flops`` (the budget's first), ``leader`` and
    ``previous`` with their best top-1 so far and the fewer seeds of the two, and the paired
    test of leader against previous: ``decided`` (the leader wins it), ``why`` (words)."""
    found = []
    for step in steps:
        leader, previous = step["leader"], step["previous"]
        if previous is None or leader == previous:
            continue
        best = step["best"]
        row = pair(step["decisions"], leader, previous)
        found.append({
            "train_flops": step["first"], "leader": leader, "previous": previous,
            "top1": best.loc[leader, "top1"], "previous_top1": best.loc[previous, "top1"],
            "seeds": int(min(best.loc[leader, "n"], best.loc[previous, "n"])),
            "leader_budget": best.loc[leader, "budget"],
            "previous_budget": best.loc[previous, "budget"],
            "decided": row is not None and row["winner"] == leader, "why": why(row, previous),
        })  # fmt: skip
    return found


def pair(frame: pd.DataFrame, a: str, b: str) -> pd.Series | None:
    """decide's row comparing ``a`` with ``b``, as ``a`` minus ``b`` (None when none)."""
    if frame.empty:
        return None
    rows = frame[(frame["strategy"] == a) & (frame["versus"] == b)]
    if len(rows):
        return rows.iloc[0]
    rows = frame[(frame["strategy"] == b) & (frame["versus"] == a)]
    if not len(rows):
        return None
    row = rows.iloc[0].copy()
    row["diff"], row["low"], row["high"] = -row["diff"], -row["high"], -row["low"]
    return row


def why(row: pd.Series | None, previous: str) -> str:
    """The paired test of a new leader against ``previous`` in words (``row``: :func:`pair`)."""
    if row is None or row["seeds"] < 1:
        return "untested: no seed in common"
    if row["seeds"] < 2:
        return "untested"
    n = int(row["seeds"])
    if not pd.notna(row["low"]):
        return f"the paired test over {n} seeds has no interval (no spread)"
    numbers = (
        f"{100 * row['diff']:+.1f} points, {row['confidence']:.0%} interval "
        f"{100 * row['low']:.1f} to {100 * row['high']:.1f}"
    )
    if row["winner"] == "tie":
        return f"tied within the margin by the paired test over {n} seeds: {numbers}"
    if row["winner"] == previous:
        return f"the paired test over {n} seeds puts the previous leader ahead: {numbers}"
    decided = "paired test" if row["decided"] else "undecided by the paired test"
    return f"{decided} over {n} seeds: {numbers}"


def crossover_lines(levels: pd.DataFrame, steps: list[dict[str, object]]) -> list[str]:
    """The changes of leader in words ("overtakes" only when tested), or one line saying the
    leader never changes and at how many budgets its lead is decided."""
    if levels.empty:
        return ["no compute frontier: no finished point recorded its training FLOPs"]
    found = crossovers(steps)
    if found:
        return [crossover_line(c) for c in found]
    leader = named(str(steps[-1]["leader"]))
    contested = [s for s in steps if len(s["best"]) > 1]
    decided = sum(bool(s["decided"]) for s in contested)
    if not contested:
        return [f"{leader} is the only series measured (nothing to compare)"]
    if decided == len(contested):
        return [f"{leader} is best at every training budget measured (no crossover; decided "
                "by the paired test at each)"]  # fmt: skip
    return [f"{leader} leads by mean at every training budget measured (no crossover; the "
            f"paired test decides its lead at {decided} of {len(contested)} budgets)"]  # fmt: skip


def crossover_line(c: dict[str, object]) -> str:
    """One change of leader: "overtakes" when the paired test decides it, else "leads ... by
    mean" and why not."""
    start = f"from about {about(c['train_flops'])} training FLOPs, "
    start += named(c["leader"], c["leader_budget"])
    previous = named(c["previous"], c["previous_budget"])
    means = f"{100 * c['top1']:.1f} % against {100 * c['previous_top1']:.1f} %"
    seeds = "one seed" if c["seeds"] == 1 else f"means of {c['seeds']} seeds"
    if c["decided"]:
        return f"{start} overtakes {previous} ({means}, {seeds}; {c['why']})"
    joint = ": " if str(c["why"]).startswith("untested") else "; "
    return f"{start} leads {previous} by mean ({means}, {seeds}{joint}{c['why']})"
