"""``python -m bench.plot SWEEP_DIR [SWEEP_DIR ...] [options]``: figures and tables of sweeps.

The command line only; what is drawn and written is :func:`bench.report.build_report`'s.
Every option's default is the ``plot`` config section's (:class:`bench.schema.Plot`),
declared once there, so ``bench.plot`` and the end of a sweep draw alike. Bad input is
one ``error:`` line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from bench.config.checks import one_line
from bench.errors import UserError, exit_on_user_error
from bench.report import Report, build_report
from bench.schema import Plot

__all__ = ["Report", "build_report", "describe", "main", "parse_args"]

DESCRIPTION = """\
Figures (top-1 against FLOPs, parameters, activations, throughput, wall time,
latency; Pareto front; learning curves; class activation maps) and tables
(results, fits) from the result.json files under each SWEEP_DIR. One SWEEP_DIR
writes into it; several are drawn together into --out (default FIRST/combined/),
with a by-budget comparison when they differ only in the training budget and a
cross-family figure when they hold different models on the same data.
"""


def _doc(key: str) -> str:
    """The ``plot.<key>`` comment of the schema, and its default."""
    field = Plot.model_fields[key]
    default = field.default
    shown = ",".join(default) if isinstance(default, list) else default
    text = " ".join((field.description or "").split()).replace("%", "%%")  # argparse formats it
    return f"{text} (default: {shown})"


class _Parser(argparse.ArgumentParser):
    """argparse whose mistakes are one ``error:`` line and exit 1, as every bench command."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UserError(f"{message} (see python -m bench.plot --help)")


def _list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def parser() -> argparse.ArgumentParser:
    """The command line's parser; defaults are None so only what was given overrides Plot."""
    p = _Parser(prog="python -m bench.plot", description=DESCRIPTION,
                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("sweeps", nargs="+", type=Path, metavar="SWEEP_DIR", help="a sweep folder")
    out = "where to write (default: the sweep folder; FIRST/combined for several)"
    p.add_argument("--out", type=Path, metavar="DIR", help=out)
    p.add_argument("--formats", type=_list, metavar="LIST", help="png,pdf,svg: " + _doc("formats"))
    p.add_argument("--width", choices=("single", "double"), help=_doc("width"))
    p.add_argument(
        "--strategies",
        type=_list,
        metavar="LIST",
        help="depth,width: draw and tabulate only these (results.csv keeps all)",
    )
    p.add_argument(
        "--no-caption",
        dest="caption",
        action="store_false",
        default=None,
        help="no caption on the figures (still written beside each as .txt)",
    )
    p.add_argument("--interval", choices=("t95", "sd", "range"), help=_doc("interval"))
    p.add_argument(
        "--fit-lines", dest="fit_lines", action="store_true", default=None, help=_doc("fit_lines")
    )
    p.add_argument("--cam-images", dest="cam_images", type=int, metavar="N",
                   help=_doc("cam_images"))  # fmt: skip
    p.add_argument("--trust-code", dest="trust_code", action="store_true", default=None,
                   help=_doc("trust_code"))  # fmt: skip
    p.add_argument("--test-resolution", dest="test_resolution", choices=("train", "best"),
                   help=_doc("test_resolution"))  # fmt: skip
    return p


def parse_args(argv: list[str]) -> tuple[list[Path], Path | None, Plot, list[str] | None]:
    """Sweep folders, ``--out``, the plot options (Plot's defaults, overridden by the flags
    given) and ``--strategies``."""
    args = parser().parse_args(argv)
    given = {k: getattr(args, k) for k in Plot.model_fields if getattr(args, k, None) is not None}
    try:
        options = Plot.model_validate(given)
    except ValidationError as exc:
        flag = str(exc.errors()[0]["loc"][0]).replace("_", "-")
        raise UserError(f"--{flag}: {one_line(exc)}") from None
    if args.strategies is not None and not args.strategies:
        raise UserError("--strategies needs at least one strategy: --strategies depth,width")
    return list(args.sweeps), args.out, options, args.strategies


def describe(report: Report) -> list[str]:
    """The lines the CLI prints: a count by status, then every path written."""
    counts = report.table["status"].value_counts()
    by_status = ", ".join(f"{n} {s}" for s, n in counts.items())
    lines = [f"{len(report.table)} points ({by_status})"]
    if report.missing:
        s = "" if report.missing == 1 else "s"
        lines.append(f"{report.missing} point folder{s} without result.json (running or killed)")
    lines.append(str(report.csv))
    lines += [str(p) for paths in report.figures.values() for p in paths]
    lines += [str(p) for p in report.tables.values()]
    return lines


@contextlib.contextmanager
def _notes_on_stderr() -> Iterator[None]:
    """The report's notes (what was not drawn and why; problems) on stderr, one line each."""
    log = logging.getLogger("bench.plot")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    saved = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.level, log.propagate = saved


@exit_on_user_error
def main(argv: list[str] | None = None) -> None:
    """The command line: see ``python -m bench.plot --help``."""
    sweeps, out, options, strategies = parse_args(sys.argv[1:] if argv is None else argv)
    with _notes_on_stderr():
        report = build_report(sweeps, out, options, strategies)
    for line in report.problems:
        print(f"warning: {line}", file=sys.stderr)
    print("\n".join(describe(report)))
    for line in report.verdicts + report.findings:  # verdicts per level; frontier crossovers
        print(line)


if __name__ == "__main__":
    main()
