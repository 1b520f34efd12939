"""``python -m bench.plot``: help, every option, and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.fake_results import write_sweep

from bench.plot import main, parse_args
from bench.schema import Plot

REPO = Path(__file__).resolve().parent.parent


def bench_plot(*args: str) -> subprocess.CompletedProcess:
    """``python -m bench.plot ARGS`` in a fresh process, as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "bench.plot", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=REPO,
    )


def run_main(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    """``main(args)`` in this process: exit status, stdout, stderr."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sweep(tmp_path_factory.mktemp("runs") / "s", strategies=("depth", "width"),
                       phis=(0, 1), pending=())  # fmt: skip


def test_cli_writes_and_prints_the_paths(tmp_path):
    sweep = write_sweep(
        tmp_path / "s", strategies=("depth", "width"), phis=(0, 1), diverged=(("width", 1, 1),)
    )
    proc = bench_plot(str(sweep), "--formats", "svg")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("12 points (") and "1 point folder without result.json" in lines[1]
    written = [Path(line) for line in lines if line.startswith(str(sweep))]
    assert sweep / "results.csv" in written and sweep / "figures" / "top1_vs_macs.svg" in written
    assert sweep / "figures" / "top1_vs_macs.txt" in written
    assert sweep / "tables" / "results_table.tex" in written
    assert sweep / "tables" / "fits.md" in written
    assert all(p.exists() for p in written)
    assert not list((sweep / "figures").glob("*.png"))
    # what was not drawn and the sweep's problems: one line each on stderr
    assert "no class activation maps: no finished point of" in proc.stderr
    assert "warning: 1 of 12 points diverged (width phi=1 seed=1)" in proc.stderr


def test_help_lists_every_option_with_the_schema_defaults():
    proc = bench_plot("--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: python -m bench.plot")
    text = " ".join(proc.stdout.split())
    options = (
        *("--out DIR", "--formats LIST", "--width {single,double}", "--strategies LIST"),
        *("--no-caption", "--interval {t95,sd,range}", "--fit-lines", "--cam-images N"),
    )
    for option in options:
        assert option in text, option
    assert "(default: t95)" in text and "(default: png,pdf,svg)" in text
    assert "(default: 4)" in text and "(default: single)" in text
    assert "SWEEP_DIR" in text and not proc.stderr


def test_defaults_come_from_the_plot_schema(sweep):
    paths, out, options, strategies = parse_args([str(sweep)])
    assert paths == [sweep] and out is None and strategies is None
    assert options == Plot()


def test_every_option_reaches_the_options(sweep, tmp_path):
    argv = [str(sweep), str(sweep), "--out", str(tmp_path), "--formats", "png, pdf",
            "--width", "double", "--strategies", "width,depth", "--no-caption",
            "--interval", "range", "--fit-lines", "--cam-images", "0"]  # fmt: skip
    paths, out, options, strategies = parse_args(argv)
    assert paths == [sweep, sweep] and out == tmp_path and strategies == ["width", "depth"]
    assert options == Plot(formats=["png", "pdf"], width="double", caption=False,
                           interval="range", fit_lines=True, cam_images=0)  # fmt: skip
    assert parse_args([str(sweep), "--out=x", "--cam-images=2"])[1:3] == (
        Path("x"),
        Plot(cam_images=2),
    )


def test_options_shape_the_output(sweep, tmp_path, capsys):
    code, out, err = run_main(capsys, str(sweep), "--out", str(tmp_path), "--formats", "pdf",
                              "--strategies", "width", "--no-caption", "--interval", "sd",
                              "--fit-lines", "--cam-images", "0")  # fmt: skip
    assert code == 0, err
    figures = tmp_path / "figures"
    assert {p.suffix for p in figures.iterdir()} == {".pdf", ".txt"}
    caption = (figures / "top1_vs_macs.txt").read_text()
    assert "band: mean ± 1 SD" in caption and "dashed: fit err" in caption
    table = (tmp_path / "tables" / "results_table.md").read_text()
    assert "| width" in table and "| depth" not in table and "Top-1 (%, mean ± SD)" in table
    assert "no class activation maps: plot.cam_images=0" in err
    assert not (sweep / "results.csv").exists()  # --out: the sweep folder is not touched


@pytest.mark.parametrize(
    "args, message",
    [
        (["--colour"], "unrecognized arguments: --colour"),
        (["--out"], "argument --out: expected one argument"),
        (["--formats", "png,jpg"], "--formats: formats.1='jpg' must be 'png', 'pdf' or 'svg'"),
        (["--interval", "t99"], "argument --interval: invalid choice: 't99'"),
        (["--width", "triple"], "argument --width: invalid choice: 'triple'"),
        (["--cam-images", "-1"], "--cam-images: cam_images=-1 must be greater than or equal to 0"),
        (["--cam-images", "two"], "argument --cam-images: invalid int value: 'two'"),
        (["--strategies", ","], "--strategies needs at least one strategy"),
        (["--strategies", "linear"], "strategy linear not in the results; they have: depth, width"),
        (["--test-resolution", "best"], "side chosen on a validation split: 12 of 12 ok points"),
    ],
)
def test_bad_options_are_one_line(sweep, capsys, args, message):
    code, out, err = run_main(capsys, str(sweep), *args)
    assert code == 1 and not out
    assert err.startswith("error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1


def test_no_sweep_folder_is_one_line(capsys):
    code, _, err = run_main(capsys)
    assert code == 1 and err.startswith("error: the following arguments are required: SWEEP_DIR")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda d: d / "missing", "does not exist"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "no result.json under"),
        (lambda d: (d / "file").write_text("x") and d / "file", "is not a folder"),
    ],
    ids=["missing-path", "empty-folder", "a-file"],
)
def test_bad_folders_are_one_line(tmp_path, capsys, make, message):
    code, out, err = run_main(capsys, str(make(tmp_path)))
    assert code == 1 and not out
    assert err.startswith("error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_an_error_in_a_fresh_process_has_no_traceback(tmp_path):
    proc = bench_plot(str(tmp_path / "missing"), "--fit-lines")
    assert proc.returncode == 1 and proc.stderr.startswith("error: ")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
