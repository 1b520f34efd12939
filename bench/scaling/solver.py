"""Turn (strategy, phi) into a concrete network whose *measured* MACs meet the budget.

Rounding (ceil of repeats, channels to multiples of 8, pixels to multiples of
8) moves real MACs away from ``baseline * 2**phi``. The solver searches the
strategy's continuous scale ``s`` for the rounded network whose counted MACs
come closest to the target. Measured MACs are a monotone step function of
``s`` (every rounding rule is monotone and strategy weights are
non-negative), so a safeguarded secant search on log2(MACs) that keeps a
bracket converges in a handful of counts; it stops once a candidate lands
within ``precision`` of the target or the bracket closes on a rounding step.
Candidates repeat, and counts are cached by the rounded architecture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from bench.models import Arch
from bench.scaling.complexity import Complexity, complexity
from bench.scaling.rounding import scale_arch
from bench.scaling.strategies import WIDTH_DIVISOR, Scale, Strategy, round_resolution
from bench.schema import ModelConfig

S_LIMIT = 12.0  # |s| beyond 2**12 times the baseline's MACs is never a sensible point
MAX_STEPS = 60


@dataclass(frozen=True)
class Candidate:
    """One rounded network at one input size, with its counted complexity."""

    scale: Scale
    arch: Arch
    resolution: int
    cost: Complexity


@dataclass(frozen=True)
class PlannedPoint:
    """A solved sweep point: what will be trained and how close it is to its budget."""

    strategy: str
    phi: float
    s: float
    candidate: Candidate
    target_macs: float
    base_macs: int
    within_tolerance: bool
    note: str = ""
    literal: bool = False
    within_max_miss: bool = True

    @property
    def infeasible(self) -> bool:
        """Refused: further from its budget than ``plan.max_miss`` where matching was asked for.

        A point off by more than ``plan.tolerance`` but within ``plan.max_miss``
        is trained at its closest network and flagged (``within_tolerance``
        false), since the x axis is its measured MACs anyway.
        """
        return not self.within_max_miss and not self.literal

    @property
    def macs_ratio(self) -> float:
        """Achieved over target MACs."""
        return self.candidate.cost.macs / self.target_macs

    def fields(self) -> dict[str, Any]:
        """The plan's part of a point's result (:data:`bench.record.PLAN_COLUMNS`)."""
        c = self.candidate
        return {
            "strategy": self.strategy,
            "phi": self.phi,
            "macs": c.cost.macs,
            "params": c.cost.params,
            "activations": c.cost.activations,
            "depth_mult": c.scale.d,
            "width_mult": c.scale.w,
            "resolution": c.resolution,
            "target_macs": int(round(self.target_macs)),
            "macs_ratio": self.macs_ratio,
            "res_mult": c.scale.r,
            "depths": list(c.arch.depths),
            "widths": list(c.arch.widths),
            "extra_blocks": c.scale.extra,
            "within_tolerance": self.within_tolerance,
            "plan_note": self.note or None,
        }


@dataclass
class Planner:
    """Solves sweep points for one model family, data shape and baseline."""

    model: ModelConfig
    base_resolution: int
    num_classes: int
    tolerance: float = 0.05
    precision: float = 0.005
    max_miss: float = 0.10
    _seen: dict[tuple[Arch, int], Candidate] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.min_resolution = self.model.min_resolution
        self.baseline = self.evaluate(Scale())

    def evaluate(self, scale: Scale) -> Candidate:
        """Round ``scale`` into a network and count it (cached by the rounded network)."""
        arch = scale_arch(self.model, scale)
        res = max(self.min_resolution, round_resolution(self.base_resolution, scale.r))
        key = (arch, res)
        if key not in self._seen:
            cost = complexity(self.model, arch, res, self.num_classes)
            self._seen[key] = Candidate(scale, arch, res, cost)
        hit = self._seen[key]
        return Candidate(scale, hit.arch, hit.resolution, hit.cost)

    def solve(self, strategy: Strategy, phi: float) -> PlannedPoint:
        """The rounded network closest to ``baseline MACs * 2**phi`` along ``strategy``."""
        phi = float(phi)
        target = self.baseline.cost.macs * 2.0**phi
        if phi == 0:
            return self._point(strategy, phi, 0.0, self.baseline, target)
        if not strategy.matched:
            return self._point(strategy, phi, phi, self.evaluate(strategy.scale(phi)), target)

        def gap(s: float) -> tuple[float, Candidate]:
            cand = self.evaluate(strategy.scale(s))
            return math.log2(cand.cost.macs / target), cand

        lo: tuple[float, float, Candidate] | None = None  # (s, gap < 0, candidate)
        hi: tuple[float, float, Candidate] | None = None  # (s, gap >= 0, candidate)
        s, prev = phi, None
        for _ in range(MAX_STEPS):
            g, cand = gap(s)
            if g < 0 and (lo is None or s > lo[0]):
                lo = (s, g, cand)
            if g >= 0 and (hi is None or s < hi[0]):
                hi = (s, g, cand)
            best = min((b for b in (lo, hi) if b), key=lambda b: abs(b[1]))
            if abs(best[1]) <= math.log2(1 + self.precision):
                break
            if lo and hi and hi[0] - lo[0] < 1e-6:
                break
            if lo is None and s <= -S_LIMIT or hi is None and s >= S_LIMIT:
                break
            s_next = self._next_s(s, g, prev, lo, hi)
            prev = (s, g)
            s = s_next
        best = min((b for b in (lo, hi) if b), key=lambda b: abs(b[1]))
        return self._point(strategy, phi, best[0], best[2], target, lo, hi)

    @staticmethod
    def _next_s(s, g, prev, lo, hi) -> float:
        """Secant step on log2(MACs), kept inside the bracket; bisection when it misbehaves."""
        if lo and hi:
            step = None
            if prev and prev[1] != g:
                step = s - g * (s - prev[0]) / (g - prev[1])
            inside = step is not None and lo[0] < step < hi[0]
            # flat steps make the secant crawl; bisect when it would barely move
            width = hi[0] - lo[0]
            if inside and min(step - lo[0], hi[0] - step) > 0.05 * width:
                return step
            return 0.5 * (lo[0] + hi[0])
        # no bracket yet: step by the gap (slope 1 in the ideal case), at least a little
        step = -g if abs(g) > 1e-3 else math.copysign(0.05, -g)
        if prev and prev[1] != g:
            secant = -g * (s - prev[0]) / (g - prev[1])
            if 0 < secant / step < 8:
                step = secant
        return max(-S_LIMIT, min(S_LIMIT, s + step * 1.05))

    def _point(self, strategy, phi, s, cand, target, lo=None, hi=None) -> PlannedPoint:
        ratio = cand.cost.macs / target
        literal = not strategy.matched
        ok = abs(ratio - 1.0) <= self.tolerance
        trainable = abs(ratio - 1.0) <= self.max_miss
        note = ""
        if not ok:
            note = self._explain(strategy, phi, cand, target, lo, hi, literal)
            if literal:
                pass
            elif trainable:
                note += f"; trained there and flagged (within plan.max_miss={self.max_miss:g})"
            else:
                note += f"; beyond plan.max_miss={self.max_miss:g}, so it is not trained"
        return PlannedPoint(
            strategy=strategy.name,
            phi=phi,
            s=s,
            candidate=cand,
            target_macs=target,
            base_macs=self.baseline.cost.macs,
            within_tolerance=ok,
            note=note,
            literal=literal,
            within_max_miss=trainable,
        )

    def _explain(self, strategy, phi, cand, target, lo, hi, literal) -> str:
        ratio = cand.cost.macs / target
        closest = describe(cand)
        head = (
            f"strategy={strategy.name} phi={phi:g}: target {target / 1e6:.4g} M MACs "
            f"is not met within {self.tolerance:.0%}; closest is {closest} "
            f"at {cand.cost.macs / 1e6:.4g} M ({ratio:.3f}x target)"
        )
        if literal:
            return (
                f"{head}: literal compound scaling is not matched to the budget: "
                f"alpha*beta^2*gamma^2 = {strategy.product:.3f} per phi, not 2, before rounding "
                f"(mode=matched solves for the target)"
            )
        if hi is None:
            return f"{head}: it is the largest network this strategy reaches"
        if lo is None:
            floor = (
                " (resolution at the network's minimum)"
                if cand.resolution <= (self.min_resolution)
                else ""
            )
            return (
                f"{head}: nothing smaller exists along this strategy: depth stops at one "
                f"block per stage, width at {WIDTH_DIVISOR} channels{floor}"
            )
        other = hi[2] if cand is lo[2] else lo[2]
        return (
            f"{head}: rounding allows no network in between; the next step is "
            f"{describe(other)} at {other.cost.macs / target:.3f}x"
        )


def describe(c: Candidate) -> str:
    """A short human-readable summary of a candidate network."""
    return (
        f"d={c.scale.d:.3g} w={c.scale.w:.3g} r={c.scale.r:.3g} "
        f"(depths {'-'.join(map(str, c.arch.depths))}, {c.resolution} px)"
    )
