r"""``python -m bench.plan``: show what a sweep will train before paying for it.

Takes the same overrides as ``python -m bench.run -m`` (comma sweeps
included), solves every point for its MAC budget and prints one row per
point; ``plan.out=FILE.csv`` also writes the table. Every strategy gets its
phi=0 row, the baseline all strategies share. Points that cannot be brought
within ``plan.tolerance`` of their target are explained on one line each and
make the command exit 1.

    python -m bench.plan strategy=depth,width,compound phi=0,1,2,3 \
        model=efficientnet_b0 data=imagenet
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from bench.config import compose_config, expand_sweep, phi_of
from bench.errors import UserError, exit_on_user_error
from bench.results import atomic_write_text
from bench.solver import PlannedPoint, Planner

if TYPE_CHECKING:  # pandas is imported where tables are made: every training job imports this
    import pandas as pd

COLUMNS = [
    "strategy",
    "phi",
    "depth_mult",
    "width_mult",
    "resolution",
    "macs",
    "params",
    "activations",
    "target_macs",
    "macs_ratio",
    "res_mult",
    "depths",
    "widths",
    "extra_blocks",
    "within_tolerance",
    "note",
]


def planner_for(cfg: DictConfig, cache: dict[Any, Planner] | None = None) -> Planner:
    """The planner for a config's model and data shape (shared through ``cache``)."""
    from bench.data import num_classes

    key = (repr(cfg.model), cfg.data.resolution, cfg.data.get("num_classes"), cfg.data.get("path"))
    if cache is not None and key in cache:
        return cache[key]
    planner = Planner(
        model=cfg.model,
        base_resolution=int(cfg.data.resolution),
        num_classes=num_classes(cfg.data),
        tolerance=float(cfg.plan.tolerance),
        precision=float(cfg.plan.precision),
    )
    if cache is not None:
        cache[key] = planner
    return planner


def plan_config(cfg: DictConfig, cache: dict[Any, Planner] | None = None) -> PlannedPoint:
    """Solve the one point a composed config describes."""
    strategy = instantiate(cfg.strategy)
    return planner_for(cfg, cache).solve(strategy, phi_of(cfg))


def with_baselines(jobs: Iterable[list[str]]) -> list[list[str]]:
    """The jobs plus a phi=0 twin of each, without duplicates, baselines first."""
    out: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    jobs = list(jobs)
    twins = [[o if not o.startswith("phi=") else "phi=0" for o in job] for job in jobs]
    for job in [*twins, *jobs]:
        key = tuple(sorted(job))
        if key not in seen:
            seen.add(key)
            out.append(job)
    return out


def _phi_value(override: str) -> float | None:
    """The number a plain ``phi=<number>`` override sets, else None."""
    if not override.startswith("phi="):
        return None
    try:
        value = OverridesParser.create().parse_override(override).value()
    except HydraException:
        return None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def compose_job(job: list[str], composed: dict[tuple[str, ...], DictConfig]) -> DictConfig:
    """Compose one job, reusing a job that differs from it only in ``phi``.

    Hydra takes about 60 ms to compose a job, a quarter of planning 5x5
    points. ``phi`` is a plain top-level number that no defaults list depends
    on, so setting it on a copy gives what composing would; interpolations
    that read it resolve lazily.
    """
    phis = [o for o in job if o.startswith("phi=")]
    phi = _phi_value(phis[0]) if len(phis) == 1 else None
    if phi is None:
        return compose_config(job)
    rest = tuple(o for o in job if o not in phis)
    if rest not in composed:
        composed[rest] = compose_config(job)
        return composed[rest]
    cfg = copy.deepcopy(composed[rest])
    OmegaConf.update(cfg, "phi", phi)
    return cfg


def plan_sweep(arguments: list[str]) -> tuple[pd.DataFrame, list[PlannedPoint], DictConfig]:
    """Plan every point of the sweep ``arguments`` describe.

    Returns the table (one row per point), the points, and the first job's
    config (for settings such as ``plan.out`` that do not vary in a sweep).
    """
    cache: dict[Any, Planner] = {}
    composed: dict[tuple[str, ...], DictConfig] = {}
    points, cfgs = [], []
    for job in with_baselines(expand_sweep(arguments)):
        cfgs.append(compose_job(job, composed))
        points.append(plan_config(cfgs[-1], cache))
    import pandas as pd

    table = pd.DataFrame([p.row() for p in points], columns=COLUMNS)
    table = table.sort_values(["strategy", "phi"], kind="stable").reset_index(drop=True)
    return table, points, cfgs[0]


def _print_table(table: pd.DataFrame) -> None:
    shown = table.assign(
        macs=(table.macs / 1e6).map("{:,.2f}M".format),
        target_macs=(table.target_macs / 1e6).map("{:,.2f}M".format),
        params=(table.params / 1e6).map("{:.2f}M".format),
        activations=(table.activations / 1e6).map("{:.2f}M".format),
        macs_ratio=table.macs_ratio.map("{:.3f}".format),
        depth_mult=table.depth_mult.map("{:.3f}".format),
        width_mult=table.width_mult.map("{:.3f}".format),
        phi=table.phi.map("{:g}".format),
    )
    cols = [
        "strategy",
        "phi",
        "depth_mult",
        "width_mult",
        "resolution",
        "depths",
        "macs",
        "target_macs",
        "macs_ratio",
        "params",
        "activations",
    ]
    print(shown[cols].to_string(index=False))


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    """Entry point: plan the sweep, print it, write ``plan.out``, exit 1 on infeasible points."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if any(a.startswith("-") for a in args):
        raise UserError(
            f"bench.plan takes Hydra overrides only (key=value, comma lists sweep); got {args}"
        )
    start = time.perf_counter()
    table, points, cfg = plan_sweep(args)
    _print_table(table)
    seconds = time.perf_counter() - start
    print(f"{len(table)} points planned in {seconds:.1f} s", file=sys.stderr)
    if cfg.plan.out:
        path = Path(cfg.plan.out)
        atomic_write_text(path, table.to_csv(index=False))
        print(f"wrote {path}", file=sys.stderr)
    notes = [p for p in points if p.note]
    for p in notes:
        label = "error" if p.infeasible else "note"
        print(f"{label}: {p.note}", file=sys.stderr)
    return 1 if any(p.infeasible for p in notes) else 0


if __name__ == "__main__":
    sys.exit(main())
