"""The README and docs/: a front door that fits, links that resolve, commands that still run.

Every shell line of README.md and docs/*.md that runs ``python -m bench.<command>`` (in a
code block, or in an inline code span) is read as a command line: each ``key=value`` it sets
must compose with the real ``conf/`` (so a made-up key or group choice fails) and pass
validation, an ``error:`` line shown under a command must be exactly what it says, the
``bench.plan`` lines without placeholders plan, and each command's ``--help`` runs and lists
the flags the pages use. Placeholders (``DIR``, ``<you>``, ``runs/<sweep>``, ``...``) leave a
command's keys checked, not its run.

The pages themselves: the README stays a front door (at most 200 lines, a table of contents
linking every page, the test command ``.ci/run`` runs), every relative link and heading anchor
resolves, every config key the prose names exists, and dated runs sit only in sections of
findings or studies (the README has none), so they are easy to find and replace.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import math
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO

from bench.config.compose import compose_config, split_sweep
from bench.config.validate import validate
from bench.errors import UserError
from bench.plan import config_dir_as_searchpath

PAGES = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))
MAX_README_LINES = 200

# python -m bench.X, with an optional "$ " prompt; torchrun's own options before its -m.
COMMAND = re.compile(
    r"^(?:\$\s+)?(?:python3?|torchrun(?:\s+--?[\w-]+(?:=\S+)?)*)\s+-m\s+(bench(?:\.\w+)+)(.*)$"
)
COMMANDS = ("bench.run", "bench.plan", "bench.plot", "bench.search")  # what the pages teach
# Hydra's flags the pages may use on bench.run / bench.plan / bench.search (value-less).
HYDRA_FLAGS = frozenset({"-m", "--multirun", "--help", "-h", "--hydra-help"})
CONFIG_DIR_FLAGS = frozenset({"--config-dir", "-cd"})
CONFIG_NAMES = {"bench.search": "search"}  # the top config each command composes (else "config")
PLAN_MAX_JOBS = 8  # plan lines up to this many points run (B0 at 20 points: about 10 s)
PLACEHOLDER = re.compile(r"<[^>]*>|\.\.\.|(?:^|=)[A-Z][A-Z_]+$")
KEY_ROW = re.compile(r"^\| `([\w.]+)` \|", re.MULTILINE)  # a key's row in docs/config.md
FILE_SUFFIXES = (".py", ".csv", ".md", ".yaml", ".json", ".txt", ".png", ".pdf", ".svg", ".tex")
DATE = re.compile(r"\b20\d\d-[01]\d-[0-3]\d\b")
DATED = re.compile(r"findings|study")  # headings of the sections that may hold dated runs


@dataclass(frozen=True)
class DocCommand:
    """One ``python -m bench.<module>`` line of a page, as the shell would split it."""

    where: str  # "docs/report.md:42", for messages
    module: str  # "bench.run"
    args: tuple[str, ...]
    cwd: Path = REPO  # where a ``cd`` before it in the same block moved to
    error: str | None = None  # the ``error:`` line the page shows right under it

    @property
    def has_placeholder(self) -> bool:
        """Whether an argument stands for something the reader fills in (DIR, <you>, ...)."""
        return any(PLACEHOLDER.search(a) for a in self.args)


def _command(text: str, where: str, cwd: Path) -> DocCommand | None:
    match = COMMAND.match(text.strip())
    if not match:
        return None
    words = shlex.split(match.group(2), comments=True)
    args = tuple(_unbracket(os.path.expandvars(a)) for a in words)  # $HOME, as the shell does
    return DocCommand(where, match.group(1), tuple(a for a in args if a), cwd)


def _unbracket(arg: str) -> str:
    """``[--formats`` and ``png,pdf]`` of a synopsis as the flag and value they stand for."""
    arg = arg.removeprefix("[")
    return arg.removesuffix("]") if "=" not in arg else arg


def _code_lines(text: str) -> Iterator[tuple[int, str | None]]:
    """(line number, the line) for code lines (fenced, or indented by 4), None for the rest."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            yield number, None
        elif fenced or line.startswith(("    ", "\t")):
            yield number, line
        else:
            yield number, None


def block_commands(text: str, page: str, root: Path = REPO) -> list[DocCommand]:
    """The commands of a page's code blocks, with the ``cd`` and ``error:`` lines around them."""
    out: list[DocCommand] = []
    cwd, last = root, False  # last: the previous line was (part of) a command
    for number, line in _code_lines(text):
        if line is None or not line.strip():
            cwd, last = root, False  # a ``cd`` holds until its block ends
            continue
        stripped = line.strip()
        if last and stripped.startswith("error:"):
            out[-1] = _replace(out[-1], error=stripped.removeprefix("error:").strip())
            last = False
            continue
        if last and stripped.startswith("["):  # a synopsis continued on the next line
            more = tuple(_unbracket(a) for a in shlex.split(stripped))
            out[-1] = _replace(out[-1], args=out[-1].args + tuple(a for a in more if a))
            continue
        last = False
        for part in stripped.split("&&"):
            part = part.strip()
            if part.startswith("cd ") and (root / part[3:].strip()).is_dir():
                cwd = root / part[3:].strip()
            elif command := _command(part, f"{page}:{number}", cwd):
                out.append(command)
                last = True
    return out


def _replace(command: DocCommand, **changes: object) -> DocCommand:
    fields = {k: getattr(command, k) for k in ("where", "module", "args", "cwd", "error")}
    return DocCommand(**(fields | changes))  # type: ignore[arg-type]


def _spans(text: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of a page's inline code spans outside code blocks (a span may
    wrap over lines; its text is joined with single spaces)."""
    prose = "\n".join("" if line is not None else raw for (_, line), raw in
                      zip(_code_lines(text), text.splitlines(), strict=True))  # fmt: skip
    for match in re.finditer(r"`([^`]+)`", prose):
        yield prose.count("\n", 0, match.start()) + 1, " ".join(match.group(1).split())


def inline_commands(text: str, page: str, root: Path = REPO) -> list[DocCommand]:
    """The commands of a page's inline code spans."""
    out = []
    for number, span in _spans(text):
        if command := _command(span, f"{page}:{number}", root):
            out.append(command)
    return out


def page_commands(path: Path) -> list[DocCommand]:
    """Every ``python -m bench.*`` command a page shows."""
    text, page = path.read_text(), str(path.relative_to(REPO))
    return [*block_commands(text, page), *inline_commands(text, page)]


ALL = [c for page in PAGES for c in page_commands(page)]


@contextlib.contextmanager
def importable(folder: Path) -> Iterator[None]:
    """The folder a command runs from on sys.path, as ``python -m`` puts it (user builders)."""
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))


def overrides_of(command: DocCommand) -> list[str]:
    """The command's Hydra overrides, ``--config-dir`` as a search path; a UserError names
    an argument that is neither an override nor a flag the command takes."""
    args, it = [], iter(command.args)
    for arg in it:
        if arg in CONFIG_DIR_FLAGS:
            args += [arg, str((command.cwd / next(it, "")).resolve())]
        elif arg.startswith("-"):
            if arg not in HYDRA_FLAGS:
                raise UserError(f"{arg} is not a flag of {command.module}")
        elif "=" in arg:
            args.append(arg)
        elif arg != "...":
            raise UserError(f"{arg!r} is neither key=value nor a flag")
    return config_dir_as_searchpath(args)


def sweep_values(overrides: list[str]) -> list[list[str]]:
    """Each override as the single-valued overrides its comma sweep stands for."""
    return [[job[0] for job in split_sweep([o])] for o in overrides]


def probes(overrides: list[str]) -> list[list[str]]:
    """Jobs that set every value of every override at least once: the first value of each
    comma sweep, then one job per further value (not every job of the sweep's product)."""
    choices = sweep_values(overrides)
    first = [values[0] for values in choices]
    varied = [first[:i] + [v] + first[i + 1 :] for i, vs in enumerate(choices) for v in vs[1:]]
    return [first, *varied]


@functools.cache
def _checked(job: tuple[str, ...], config_name: str) -> None:
    """Compose one job from ``conf/`` and validate it (a UserError names the problem)."""
    validate(compose_config(list(job), config_name=config_name))


def key_problem(command: DocCommand) -> str | None:
    """What is wrong with the keys and values a command sets (None: nothing): every value of
    every override composed from ``conf/`` (unknown keys and group choices fail there) and
    validated as ``bench.run`` validates a job. Other modules (``bench.sweep.child``, a
    maintainer's ``bench.config.reference``) only have to exist."""
    if command.module not in COMMANDS:
        found = importlib.util.find_spec(command.module) is not None
        return None if found else f"{command.where}: no module {command.module}"
    if command.module == "bench.plot":
        return None  # flags and folders only: its flags are checked against its --help
    config_name = CONFIG_NAMES.get(command.module, "config")
    try:
        with importable(command.cwd):
            for job in probes(overrides_of(command)):
                _checked(tuple(job), config_name)
    except UserError as exc:
        if command.error is not None and str(exc) == command.error:
            return None
        return f"{command.where}: {command.module} {' '.join(command.args)}: {exc}"
    if command.error is not None:
        return f"{command.where}: the page shows 'error: {command.error}', but the keys are valid"
    return None


def unknown_flags(commands: list[DocCommand], help_text: str) -> list[str]:
    """``--flags`` the commands use that the command's ``--help`` does not list."""
    return sorted(
        f"{c.where}: {a}"
        for c in commands
        for a in c.args
        if a.startswith("--") and not re.search(rf"{re.escape(a)}\b", help_text)
    )


def config_keys() -> frozenset[str]:
    """Every key docs/config.md lists: generated from the schema, and kept so by
    tests/test_schema.py, so it is the schema's list of keys."""
    return frozenset(KEY_ROW.findall((REPO / "docs" / "config.md").read_text()))


def unknown_keys(text: str, page: str, keys: frozenset[str]) -> list[str]:
    """Config keys a page's inline code names (``train.epochs``, ``decide.max_seeds=N``)
    that no config section declares; file names (``plan.py``) are not keys."""
    sections = "|".join(sorted({key.partition(".")[0] for key in keys if "." in key}))
    mention = re.compile(rf"(?:^|[\s'\"(\[])((?:{sections})\.[a-z_][\w.]*)")
    return [
        f"{page}:{number}: {name}"
        for number, span in _spans(text)
        for name in (m.rstrip(".") for m in mention.findall(span))
        if name not in keys and not name.endswith(FILE_SUFFIXES)
    ]


def undated_sections(text: str, page: str) -> list[str]:
    """Lines with a date (a dated measurement) outside a section whose heading, or a heading
    above it, says it holds findings or a study: the rest of the pages say how things work,
    and dated runs belong in BENCHMARKS.md."""
    headings: list[tuple[int, str]] = []  # (level, title) of the sections the line is in
    out = []
    for (number, line), raw in zip(_code_lines(text), text.splitlines(), strict=True):
        if line is None and raw.startswith("#"):
            level = len(raw) - len(raw.lstrip("#"))
            headings = [h for h in headings if h[0] < level] + [(level, raw.lower())]
        elif DATE.search(raw) and not any(DATED.search(title) for _, title in headings):
            out.append(f"{page}:{number}")
    return out


# --- the pages' commands ------------------------------------------------------------------


def test_the_pages_show_every_command():
    assert set(COMMANDS) <= {c.module for c in ALL}
    readme = [c for c in ALL if c.where.startswith("README.md:")]
    assert any(c.args == ("-m", "strategy=depth,width,compound") for c in readme)  # the main job


@pytest.mark.filterwarnings(r"ignore:\s*'hydra/launcher/ray' is validated")  # as bench does
@pytest.mark.parametrize("command", ALL, ids=[c.where for c in ALL])
def test_a_documented_command_sets_real_keys(command):
    assert key_problem(command) is None, key_problem(command)


@pytest.mark.slow
def test_the_documented_plans_run(tmp_path, monkeypatch, capsys):
    from bench.plan import main

    plans = {
        (c.args, c.cwd): c
        for c in ALL
        if c.module == "bench.plan" and not c.error and not c.has_placeholder
        if math.prod(len(values) for values in sweep_values(overrides_of(c))) <= PLAN_MAX_JOBS
    }
    assert len(plans) >= 3
    monkeypatch.chdir(tmp_path)  # plan.out=plan.csv lands here
    for command in plans.values():
        with importable(command.cwd):
            assert main(overrides_of(command)) == 0, (
                f"{command.where}: {capsys.readouterr().err[-2000:]}"
            )


@pytest.mark.slow
@pytest.mark.parametrize("module", ["bench.run", "bench.plan", "bench.plot", "bench.search"])
def test_the_help_of_each_command_runs_and_lists_its_flags(module):
    proc = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True,
                          text=True, timeout=300, cwd=REPO)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip()
    if module == "bench.plot":
        assert unknown_flags([c for c in ALL if c.module == module], proc.stdout) == []


# --- the checker itself -------------------------------------------------------------------

FAKE_PAGE = """Some prose with `python -m bench.plan
phi=0,1` in a span.

    python3 -m venv .venv && . .venv/bin/activate && python -m bench.run -m strategy=depth
    python -m bench.plot runs/<sweep> [--formats png,pdf]
        [--fit-lines] [--out DIR]

    cd docs/examples/user_family
    python -m bench.plan --config-dir conf model=dwnet   # a comment

    $ python -m bench.plan train.amp=flase
    error: train.amp='flase' must be auto, true or false

```
torchrun --nproc_per_node=4 -m bench.run model=resnet50 'tune.lrs=[0.05,0.4]' data.val_fraction=0.1
```
"""


def test_commands_are_read_from_blocks_spans_and_shell_chains():
    found = {
        c.where: c for c in [*block_commands(FAKE_PAGE, "p"), *inline_commands(FAKE_PAGE, "p")]
    }
    assert found["p:1"].args == ("phi=0,1",)
    assert found["p:4"].module == "bench.run" and found["p:4"].args == ("-m", "strategy=depth")
    assert found["p:5"].args == ("runs/<sweep>", "--formats", "png,pdf", "--fit-lines", "--out",
                                 "DIR")  # fmt: skip
    assert found["p:5"].has_placeholder
    assert found["p:9"].cwd == REPO / "docs/examples/user_family"
    assert found["p:9"].args == ("--config-dir", "conf", "model=dwnet")
    assert found["p:11"].error == "train.amp='flase' must be auto, true or false"
    assert found["p:15"].args == ("model=resnet50", "tune.lrs=[0.05,0.4]", "data.val_fraction=0.1")
    assert len(found) == 6


def test_the_fake_page_passes_as_written():
    commands = [*block_commands(FAKE_PAGE, "p"), *inline_commands(FAKE_PAGE, "p")]
    assert [key_problem(c) for c in commands] == [None] * len(commands)


@pytest.mark.parametrize(
    ("line", "reported"),
    [
        ("python -m bench.run -m strategy=depth train.epohcs=3", "train.epohcs"),
        ("python -m bench.plan model=no_such_model", "model/no_such_model"),
        ("python -m bench.run -m strategy=depth,widht", "strategy/widht"),
        ("python -m bench.run train.epochs=-1", "train.epochs"),
        ("python -m bench.search search.stpe=0.05", "search.stpe"),
        ("python -m bench.run hydra/launcher=joblib hydra.launcher.n_job=2", "n_job"),
        ("python -m bench.run --trust-code", "--trust-code"),
    ],
)
def test_a_made_up_key_in_a_page_is_reported(line, reported):
    (command,) = block_commands(f"    {line}\n", "fake.md")
    problem = key_problem(command)
    assert problem is not None and problem.startswith("fake.md:1: ") and reported in problem


def test_an_error_line_the_command_does_not_give_is_reported():
    page = "    python -m bench.plan train.amp=true\n    error: train.amp='true' is refused\n"
    (command,) = block_commands(page, "fake.md")
    assert "keys are valid" in key_problem(command)
    page = "    python -m bench.plan train.amp=flase\n    error: something else\n"
    (command,) = block_commands(page, "fake.md")
    assert "must be auto, true or false" in key_problem(command)


def test_a_plot_flag_its_help_does_not_list_is_reported():
    (command,) = block_commands("    python -m bench.plot runs/x --fit-lines --fitlines\n", "f")
    assert unknown_flags([command], "usage: ... [--fit-lines] [--out DIR]") == ["f:1: --fitlines"]


# --- the pages themselves -----------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a page's headings (GitHub numbers repeated ones -1, -2, ...)."""
    text = path.read_text()
    counts: dict[str, int] = {}
    out = set()
    for (_, line), raw in zip(_code_lines(text), text.splitlines(), strict=True):
        if line is None and raw.startswith("#"):
            base = slug(raw.lstrip("#"))
            out.add(f"{base}-{counts[base]}" if base in counts else base)
            counts[base] = counts.get(base, 0) + 1
    return out


def links(path: Path) -> Iterator[tuple[str, str]]:
    """(where, target) of every relative Markdown link of a page outside code blocks."""
    text = path.read_text()
    for (number, line), raw in zip(_code_lines(text), text.splitlines(), strict=True):
        if line is not None:
            continue
        for target in re.findall(r"\]\(([^)\s]+)\)", raw):
            if not re.match(r"[a-z]+:", target):
                yield f"{path.relative_to(REPO)}:{number}", target


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_config_key_a_page_names_exists(page):
    assert unknown_keys(page.read_text(), page.name, config_keys()) == []


def test_a_made_up_key_in_prose_is_reported():
    page = "Set `train.epochs`, `decide.max_seeds=N` or\n`'train.epohcs=[1,2]'`; see `plan.py`.\n"
    assert unknown_keys(page, "f", config_keys()) == ["f:2: train.epohcs"]
    assert unknown_keys("    `eval.flip` in a code block\n", "f", config_keys()) == []


def test_dated_runs_live_in_findings_or_a_study():
    readme = (REPO / "README.md").read_text()
    assert [f"README.md:{n}" for n, line in enumerate(readme.splitlines(), 1)
            if DATE.search(line)] == []  # fmt: skip
    for page in PAGES[1:]:
        assert undated_sections(page.read_text(), page.name) == []


def test_a_date_outside_findings_is_reported():
    page = "# Page\n\nRan 2026-12-03.\n\n## Findings (round 3 task)\n\n### Run\n\n2026-12-03\n"
    assert undated_sections(page, "p") == ["p:3"]
    assert undated_sections("## A study\n\n2026-11-26\n\n## Next\n\n2026-11-26\n", "p") == ["p:7"]


def test_the_readme_is_a_front_door_with_a_table_of_contents():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= MAX_README_LINES
    assert "## Contents" in text
    linked = {target.partition("#")[0] for _, target in links(REPO / "README.md")}
    pages = {f"docs/{p.name}" for p in (REPO / "docs").glob("*.md")}
    assert pages <= linked, f"pages the README does not link: {sorted(pages - linked)}"
    assert "BENCHMARKS.md" in linked


def test_every_link_of_the_pages_resolves():
    broken = []
    for page in (*PAGES, REPO / "BENCHMARKS.md"):
        for where, target in links(page):
            file, _, anchor = target.partition("#")
            path = (page.parent / file).resolve() if file else page
            if not path.exists():
                broken.append(f"{where}: {target}")
            elif anchor and path.suffix == ".md" and anchor not in anchors(path):
                broken.append(f"{where}: {target} (no such heading)")
    assert broken == []


def test_ci_runs_exactly_the_readme_test_command():
    readme = [line.strip() for line in (REPO / "README.md").read_text().splitlines()]
    (command,) = [line for line in readme if line.endswith("python -m pytest -q")]
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert command in [line.strip() for line in ci]
