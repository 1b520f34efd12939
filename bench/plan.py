r"""``python -m bench.plan``: show what a sweep will train before paying for it.

Takes the same overrides as ``python -m bench.run -m`` (comma sweeps
included), solves every point for its MAC budget and prints one row per
point; ``plan.out=FILE.csv`` also writes the table. Every strategy gets its
phi=0 row, the baseline all strategies share. A point that rounding keeps
further than ``plan.tolerance`` from its target is explained on one line: it
is trained at its closest network and flagged when within ``plan.max_miss``
(a ``note:``), and refused beyond it (an ``error:``, and the command exits
1). Every job's config is checked first, as a sweep does.

    python -m bench.plan strategy=depth,width,compound phi=0,1,2,3 \
        model=efficientnet_b0 data=imagenet
    python -m bench.plan --config-dir my_conf model=my_net      # your own presets too
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.config.compose import compose_jobs, expand_sweep
from bench.errors import UserError, exit_on_user_error
from bench.record import PLAN_COLUMNS
from bench.schema import Run
from bench.store import atomic_write_text
from bench.validate import validate

if TYPE_CHECKING:  # pandas is imported where tables are made: every training job imports this
    import pandas as pd

    from bench.scaling.solver import PlannedPoint


def __getattr__(name: str) -> Any:
    """``plan_point`` and ``planner_for``, also read from here, loaded on first use: the
    command checks every job's config before it loads torch to count MACs."""
    if name in ("plan_point", "planner_for"):
        from bench.scaling import planning

        return getattr(planning, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def with_baselines(jobs: list[list[str]]) -> list[list[str]]:
    """The jobs plus a phi=0 twin of each, without duplicates, baselines first."""
    out: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    twins = [[o if not o.startswith("phi=") else "phi=0" for o in job] for job in jobs]
    for job in [*twins, *jobs]:
        key = tuple(sorted(job))
        if key not in seen:
            seen.add(key)
            out.append(job)
    return out


def plan_sweep(arguments: list[str]) -> tuple[pd.DataFrame, list[PlannedPoint], Run]:
    """Plan every point of the sweep ``arguments`` describe, after checking every job's config.

    Returns the table (one row per point, :data:`bench.record.PLAN_COLUMNS`),
    the points, and the first job's config (for settings such as ``plan.out``
    that do not vary in a sweep).
    """
    import pandas as pd

    configs = [validate(cfg) for cfg in compose_jobs(with_baselines(expand_sweep(arguments)))]
    from bench.scaling.planning import plan_point  # torch and ptflops: once the configs are good

    points = [plan_point(c, check=False) for c in configs]
    rows = [{k: _cell(v) for k, v in p.fields().items()} for p in points]
    table = pd.DataFrame(rows, columns=list(PLAN_COLUMNS))
    table = table.sort_values(["strategy", "phi"], kind="stable").reset_index(drop=True)
    return table, points, configs[0]


def _cell(value: object) -> object:
    """Lists as "1-2-2" in the table and CSV, as results.csv writes them."""
    return "-".join(map(str, value)) if isinstance(value, list) else value


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


def config_dir_as_searchpath(args: list[str]) -> list[str]:
    """``--config-dir DIR`` (or ``-cd DIR``), as ``bench.run`` takes it, as a search path."""
    out, dirs, it = [], [], iter(args)
    for arg in it:
        if arg in ("--config-dir", "-cd"):
            dirs.append(next(it, ""))
        elif arg.startswith("--config-dir="):
            dirs.append(arg.partition("=")[2])
        else:
            out.append(arg)
    for folder in dirs:
        path = Path(folder).expanduser().resolve()
        if not path.is_dir():
            raise UserError(f"--config-dir {folder!r} is not a folder")
    if dirs:
        paths = ",".join(f"file://{Path(d).expanduser().resolve()}" for d in dirs)
        out.append(f"hydra.searchpath=[{paths}]")
    return out


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    """Entry point: plan the sweep, print it, write ``plan.out``, exit 1 on refused points."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    args = config_dir_as_searchpath(args)
    if any(a.startswith("-") for a in args):
        raise UserError(
            f"bench.plan takes Hydra overrides (key=value, comma lists sweep) and "
            f"--config-dir DIR only; got {args}"
        )
    start = time.perf_counter()
    table, points, cfg = plan_sweep(args)
    _print_table(table)
    seconds = time.perf_counter() - start
    print(f"{len(table)} points planned in {seconds:.1f} s", file=sys.stderr)
    if cfg.plan.out:
        path = Path(cfg.plan.out).expanduser()
        atomic_write_text(path, table.to_csv(index=False))
        print(f"wrote {path}", file=sys.stderr)
    for p in points:
        if p.note:
            print(f"{'error' if p.infeasible else 'note'}: {p.note}", file=sys.stderr)
    flagged = sum(not p.within_tolerance and not p.infeasible for p in points)
    if flagged:
        print(f"{flagged} point(s) will train off their target, flagged", file=sys.stderr)
    return 1 if any(p.infeasible for p in points) else 0


if __name__ == "__main__":
    sys.exit(main())
