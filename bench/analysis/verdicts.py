"""Verdicts in words: what :mod:`bench.analysis.decide` found, said.

- :func:`verdict_lines`: one line per level, beginning ``phi=<level>:``,
  logged at the end of a sweep and printed by ``bench.plot``;
- :func:`display` and :func:`caption`: the cells and caption of the decisions table, which
  :func:`bench.report.verdicts.write_decisions` writes (``tables/decisions.{csv,md,tex}``);
  the ring around a level's decided winner on a figure is drawn there too.
"""

from __future__ import annotations

import math

import pandas as pd

from bench.analysis.decide import COLUMNS
from bench.analysis.flags import FLAGS, flagged
from bench.analysis.levels import with_sweep


def _pts(x: float) -> str:
    return f"{100 * x:.1f}"


def _signed(x: float) -> str:
    return f"{'+' if x >= 0 else ''}{_pts(x)}"


def percent(confidence: float) -> str:
    """A confidence in percent with the digits it needs: 95, 98.3, 99.2, 99.75."""
    for digits in (3, 4, 5, 6):
        text = f"{100 * confidence:.{digits}g}"
        if text != "100":
            return text
    return f"{100 * confidence:g}"


def describe(row: pd.Series | dict, margin: float, confidence: float = 0.95) -> str:
    """One comparison in words (issue 21's wording): ahead, tied, or undecided and why; every
    interval with the confidence it was drawn at (the row's, else ``confidence``)."""
    a, b, n = row["strategy"], row["versus"], int(row["seeds"])
    if n == 0:
        return f"{a} vs {b}: no paired seed"
    if n == 1:
        return f"{a} vs {b} undecided (one seed)"
    diff, low, high = row["diff"], row["low"], row["high"]
    seeds = f"{n} paired seeds"
    if row.get("sd") == 0:
        return (f"{a} vs {b} undecided ({_signed(diff)} at each of the {seeds}: no spread to "
                "estimate the noise from)")  # fmt: skip
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{a} vs {b} undecided ({_signed(diff)}, {seeds}: no noise estimate)"
    drawn = row.get("confidence", confidence)
    level = f"{percent(drawn if pd.notna(drawn) else confidence)} % interval"
    if row["winner"] == "tie":
        ends = f"{_signed(diff)}, {level} {_pts(low)} to {_pts(high)}, {seeds}"
        return f"{a} and {b} tied within the {100 * margin:g}-point margin ({ends})"
    if row["decided"]:
        sign = 1 if row["winner"] == a else -1
        loser = b if sign == 1 else a
        low, high = sorted((sign * low, sign * high))
        ends = f"{level} {_pts(low)} to {_pts(high)}, {seeds}"
        return f"{row['winner']} ahead of {loser} by {_pts(sign * diff)} points ({ends})"
    need = row["seeds_needed"]
    would = f"about {int(need)} seeds" if math.isfinite(need) else "more than 1000 seeds"
    ends = f"{_signed(diff)}, {level} {_pts(low)} to {_pts(high)}, {seeds}"
    return (
        f"{a} vs {b} undecided ({ends}): {would} would decide a {100 * margin:g}-point "
        "difference at this noise"
    )


def leader_first(row: dict) -> dict:
    """A comparison of the level's leader, turned so that the leader is named first."""
    if row["strategy"] == row["leader"]:
        return row
    return row | {"strategy": row["versus"], "versus": row["strategy"], "diff": -row["diff"],
                  "low": -row["high"], "high": -row["low"]}  # fmt: skip


def verdict_lines(
    table: pd.DataFrame, frame: pd.DataFrame, margin: float, confidence: float
) -> list[str]:
    """One line per level of ``table`` (every phi of every sweep), in phi order.

    A level with an estimate of its noise says its leader's comparisons with every other
    strategy, then whether that decides it (the winner, at ``confidence`` over the looks),
    then the comparisons among the others and the pooled noise; without one (one seed, no
    spread) it lists its pairs; with one strategy, it against the baseline. phi 0 is the
    shared baseline and compares nothing. Flagged points are counted at the end.
    """
    table = with_sweep(table)
    phis = pd.to_numeric(table["phi"], errors="coerce")
    ok = table[table["status"] == "ok"].assign(phi=phis)
    counts = _flag_counts(ok)
    seeds0 = ok[ok["phi"] == 0].groupby("sweep")["seed"].nunique()
    by_level: dict[tuple, list[dict]] = {}
    for record in _records(frame):
        by_level.setdefault((record["sweep"], record["phi"]), []).append(record)
    sweeps = list(dict.fromkeys(table["sweep"].tolist()))
    found: dict[str, set[float]] = {sweep: set() for sweep in sweeps}
    for sweep, phi in zip(table["sweep"].tolist(), phis.tolist(), strict=True):
        if phi == phi:  # not NaN
            found[sweep].add(phi)
    lines = []
    for sweep in sweeps:
        tag = f" [{sweep}]" if len(sweeps) > 1 else ""
        for phi in sorted(found[sweep]):
            if phi == 0:
                n = int(seeds0.get(sweep, 0))
                text = f"the shared baseline ({n} seed{'' if n == 1 else 's'}), nothing to decide"
            else:
                level = by_level.get((sweep, float(phi)), [])
                text = _level_text(level, margin, confidence) + counts.get((sweep, phi), "")
            lines.append(f"phi={phi:g}:{tag} {text}")
    return lines


def _records(frame: pd.DataFrame) -> list[dict]:
    """The rows of ``frame`` as dicts (column by column: far faster than row by row)."""
    if frame.empty:
        return []
    names = list(frame.columns)
    columns = (frame[c].to_numpy(object).tolist() for c in names)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]


def _level_text(level: list[dict], margin: float, confidence: float) -> str:
    if not level:
        return "one strategy and no baseline: nothing to compare"
    pairs = [r for r in level if r["kind"] == "pair"]
    ranked = [r for r in pairs if r["ranks"]]
    if not pairs:
        return "; ".join(describe(r, margin, confidence) for r in level if r["ranks"])
    if not any(math.isfinite(r["low"]) for r in ranked):  # no noise estimate: no leader
        return "; ".join(describe(r, margin, confidence) for r in pairs)
    said = "; ".join(describe(leader_first(r), margin, confidence) for r in ranked)
    said += _conclusion(ranked, confidence)
    others = [r for r in pairs if not r["ranks"]]
    if others:
        said += "; others: " + "; ".join(describe(r, margin, confidence) for r in others)
    noise = ranked[0]
    return said + f" [paired sd {100 * noise['sd']:.2g} points, {int(noise['df'])} df]"


def _conclusion(ranked: list[dict], confidence: float) -> str:
    """What the leader's comparisons decide: its win (at ``confidence`` over the looks), a tie
    at the top, or nothing yet."""
    if not all(r["decided"] for r in ranked):
        return ""
    leader = ranked[0]["leader"]
    if any(r["winner"] != leader for r in ranked):
        return ": decided, no single winner (tied at the top within the margin)"
    looks = round((1 - confidence) / (1 - ranked[0]["confidence"]))
    over = f" over {looks} looks" if looks > 1 else ""
    return f": {leader} wins the level ({percent(confidence)} % confidence{over})"


def _flag_counts(ok: pd.DataFrame) -> dict[tuple, str]:
    """Per (sweep, phi), `` [flagged: K of M points <flag>; ...]`` over its ok points, or
    nothing: a verdict between such points is about them as they stand, not about scaling."""
    marks = pd.DataFrame({f.label: flagged(ok, f) for f in FLAGS}, index=ok.index)
    grouped = marks.groupby([ok["sweep"], ok["phi"]], sort=False)
    sums, sizes = grouped.sum(), grouped.size()
    out = {}
    for key, row in sums[(sums > 0).any(axis=1)].iterrows():
        said = [f"{int(c)} of {sizes[key]} points {label}" for label, c in row.items() if c]
        out[key] = f" [flagged: {'; '.join(said)}]"
    return out


def display(frame: pd.DataFrame) -> pd.DataFrame:
    """The table's cells as text: fractions to 4 decimals, p to 3 significant digits, the
    interval's confidence in percent, the flags of the points compared."""
    several = frame["sweep"].nunique() > 1 if len(frame) else False
    shown = ["role", "confidence", "seeds_needed", "flags"]
    out = frame.reindex(columns=COLUMNS + (["sweep"] if several else []) + shown).copy()
    for column in ("diff", "low", "high"):
        out[column] = out[column].map(lambda v: "—" if pd.isna(v) else f"{v:+.4f}")
    out["p_value"] = out["p_value"].map(lambda v: "—" if pd.isna(v) else f"{v:.3g}")
    out["phi"] = out["phi"].map(lambda v: f"{v:g}")
    out["decided"] = out["decided"].map(lambda v: "yes" if v else "no")
    out["winner"] = out["winner"].replace("", "—")
    out["confidence"] = out["confidence"].map(lambda v: "—" if pd.isna(v) else f"{percent(v)} %")
    out["seeds_needed"] = out["seeds_needed"].map(lambda v: "—" if pd.isna(v) else f"{int(v)}")
    out["flags"] = out["flags"].map(lambda v: v if isinstance(v, str) and v else "—")
    return out


def caption(margin: float, confidence: float) -> str:
    """What the numbers of the decisions table are."""
    return (
        "Paired comparisons per level: diff = strategy minus versus in top-1 (fractions; 0.01 is "
        "one point), mean over the seeds both finished (seeds); low, high: its t-interval at "
        "the confidence shown. Strategy pairs use one paired noise sd pooled over the "
        "strategies of the sweep (decide.pool; the same noise assumed for all of them), at "
        f"1 - (1 - {confidence:g}) / looks (alpha split over the rounds of an adaptive sweep); "
        "role leader: the level's leader (best mean) against another strategy, the level's "
        f"winner when ahead of every other one (a wrong winner at most {percent(1 - confidence)}"
        " % of the time over all the looks); role others: between two others, per comparison,"
        " not part of the ranking. Baseline rows: own paired differences, at the level Holm's "
        f"procedure used (family-wise {percent(confidence)} % per level over the looks). "
        "p_value: the t-test's p times the looks (pairs), Holm-adjusted (baseline). "
        f"decided: the interval excludes 0 (winner) or lies within ±{margin:g} (tie). "
        "seeds_needed: paired seeds that would decide a difference of the margin at this "
        "noise (80 % power). flags: flagged points among those compared (still improving, not "
        "above chance, off MAC target), counted: the comparison is about them as they stand. "
        "Assumes roughly normal noise and independent seeds."
    )
