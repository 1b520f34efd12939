"""Planning one point: the network a config's strategy and phi give at its MAC target.

Every training job plans its own point here, and ``python -m bench.plan`` plans
a whole sweep with the same functions (:mod:`bench.plan`), so the table it
shows is what the jobs will train. A planner is kept per model, data shape and
``plan`` section, for the next point of the same sweep.
"""

from __future__ import annotations

from bench.cache import LRU
from bench.errors import UserError
from bench.scaling.solver import PlannedPoint, Planner
from bench.schema import Run

_planners: LRU[Planner] = LRU(16)


def planner_for(config: Run) -> Planner:
    """The planner for a config's model and data shape (kept for the next point)."""
    from bench.data import num_classes

    model, data, plan = config.model, config.data, config.plan

    def make() -> Planner:
        return Planner(
            model=model,
            base_resolution=data.resolution,
            num_classes=num_classes(data),
            tolerance=plan.tolerance,
            precision=plan.precision,
            max_miss=plan.max_miss,
        )

    key = (model.model_dump_json(), data.model_dump_json(), plan.model_dump_json())
    return _planners.get(key, make)


def plan_point(config: Run, check: bool = True) -> PlannedPoint:
    """Solve the point a config describes; with ``check``, an off-budget point is a UserError."""
    point = planner_for(config).solve(config.strategy, config.phi)
    if check and point.infeasible:
        raise UserError(point.note)
    return point
