"""Every config key, declared once: its type, default, comment and check.

Hydra composes ``conf/`` (YAML presets for models, data, strategies and
experiments) on top of the defaults declared here, which reach Hydra as one
untyped node (:func:`bench.config.compose.defaults`), so a YAML file only says what
it changes. :func:`bench.validate.validate` then turns the composed config
into these typed sections, and every bad value is one line naming the key,
the value and what is allowed. Composition stays untyped on purpose: typed
Hydra nodes reject a bad value while composing, with a multi-line message and
before any entry point can phrase it.

Sections that vary by kind declare their extra keys next to the code that
reads them: a data kind's loader (:mod:`bench.data`), a model family's
builder (its ``model`` parameter's type, :mod:`bench.models`), a strategy's
class (:mod:`bench.scaling.strategies`). Keys they share live here.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, SerializeAsAny, field_validator, model_validator

from bench.schema_bases import DataConfig, ModelConfig
from bench.schema_types import (  # noqa: F401 - parse_auto and resolve_auto are read from here
    AutoBool,
    Device,
    FolderName,
    Fraction,
    RunsDir,
    Section,
    parse_auto,
    resolve_auto,
)


# ----------------------------------------------------------------------------- training
class Train(Section):
    """``train.*``: the recipe, identical for every point of a sweep."""

    budget: Literal["epochs", "flops"] = "epochs"
    """epochs: every point trains train.epochs (the paper); flops: every point gets the
    baseline's training FLOPs (6 x MACs x samples), so bigger models see fewer samples."""
    epochs: float = Field(3.0, gt=0)
    """Passes over the training set (the baseline's, under budget=flops)."""
    batch_size: int = Field(128, ge=1)
    """Global batch: under DDP each of N processes takes batch_size / N."""
    eval_batch_size: int = Field(512, ge=1)
    """Batch for held-out evaluation; changes speed, never results."""
    lr: float = Field(0.2, gt=0)
    """Peak learning rate for the global batch."""
    momentum: Fraction = 0.9
    """SGD momentum."""
    nesterov: bool = True
    """Nesterov momentum."""
    weight_decay: float = Field(5.0e-4, ge=0)
    """L2 penalty on weights (never on biases and normalisation parameters)."""
    label_smoothing: Fraction = 0.1
    """Cross-entropy label smoothing."""
    warmup_epochs: float = Field(0.5, ge=0)
    """Linear warmup from zero, then cosine decay to zero over the remaining steps."""
    grad_clip: float | None = Field(None, gt=0)
    """Clip the total gradient norm to this value before each step; null: no clipping
    (measured no better than zero_init_last alone, docs/design.md)."""
    regularization: Literal["fixed", "scaled"] = "fixed"
    """fixed: every point uses the model's drop_rate and drop_path_rate; scaled: they grow
    with the point's MAC ratio as EfficientNet's grew from B0 to B7."""
    eval_every: int = Field(1, ge=1)
    """Epochs between evaluations on the held-out split."""
    checkpoint_every: int = Field(1, ge=1)
    """Epochs between checkpoints (a killed point resumes from the last one)."""
    checkpoint_seconds: float = Field(600.0, gt=0)
    """Also checkpoint when this many seconds passed since the last one, checked between
    steps, so a long epoch loses at most this much work; a resume continues mid-epoch."""
    loss_check_every: int = Field(25, ge=1)
    """Steps between reads of the loss: each read waits for the device."""
    log_every_seconds: float = Field(10.0, gt=0)
    """Seconds between progress lines."""
    compile: AutoBool = False
    """torch.compile the model; auto: on CUDA when the point has compile_min_steps steps."""
    compile_min_steps: int = Field(1000, ge=1)
    """Steps a point needs before compile=auto compiles it (compiling costs seconds)."""
    compile_backend: Literal["inductor", "aot_eager", "eager"] = "inductor"
    """torch.compile's backend when compiling: inductor generates fused kernels (the speed-up);
    aot_eager captures the forward and backward graphs but runs them eagerly, with no code
    generation (seconds to compile; for checking that a network compiles); eager only captures."""
    channels_last: AutoBool = "auto"
    """channels_last memory format; auto: on (faster on CUDA, and on CPU through oneDNN)."""
    amp: AutoBool = "auto"
    """bf16 autocast; auto: on CUDA only."""
    sync_bn: AutoBool = "auto"
    """Batch-norm statistics over the global batch under DDP; auto: on with several processes."""

    # Keys that decide what a point learns (they make its training key); the rest
    # decide how it is watched, timed or sped up, or (amp, sync_bn) enter the key by
    # their effect on this device (bench.train.point.training_key). Every key is in one list.
    LEARNING: ClassVar = (
        "budget", "epochs", "batch_size", "lr", "momentum", "nesterov", "weight_decay",
        "label_smoothing", "warmup_epochs", "grad_clip", "regularization",
    )  # fmt: skip
    WATCHING: ClassVar = (
        "eval_batch_size", "eval_every", "checkpoint_every", "checkpoint_seconds",
        "loss_check_every", "log_every_seconds", "compile", "compile_min_steps", "compile_backend",
        "channels_last", "amp", "sync_bn",
    )  # fmt: skip


class Logger(Section):
    """``logger.*``: Weights & Biases, offline unless asked."""

    mode: Literal["auto", "offline", "online", "disabled"] = "auto"
    """offline writes runs under runs/<sweep>/wandb for `wandb sync`; disabled writes nothing
    for W&B; auto: WANDB_MODE when it is set, else offline (an explicit mode beats WANDB_MODE)."""
    project: str = "scalebench"
    """W&B project."""
    entity: str | None = None
    """W&B entity (team or user); null: your default."""
    tags: list[str] = []
    """Extra tags on every run."""
    init_timeout: float = Field(30.0, gt=0)
    """Seconds wandb.init may take before logging is switched off for the run."""
    log_checkpoints: bool = False
    """Also log each point's final checkpoint to W&B as an artifact (large)."""


class Plan(Section):
    """``plan.*``: how points are matched to their MAC targets."""

    out: str | None = None
    """plan.out=FILE.csv: `bench.plan` also writes its table there."""
    tolerance: Fraction = 0.05
    """A point further than this from its MAC target is flagged (within_tolerance false)."""
    max_miss: Fraction = 0.10
    """A point further than this from its MAC target is refused; up to it, the closest
    network is trained and flagged (the x axis is its measured MACs anyway)."""
    precision: float = Field(0.005, gt=0, lt=0.5)
    """The solver stops once a candidate is this close to the target."""

    @model_validator(mode="after")
    def _refuse_beyond_flag(self) -> Plan:
        if self.max_miss < self.tolerance:
            raise ValueError(
                f"max_miss={self.max_miss:g} must be at least tolerance={self.tolerance:g}"
            )
        return self


class Plot(Section):
    """``plot.*``: what `bench.plot` and the end of every sweep draw (`bench.plot` flags too)."""

    interval: Literal["t95", "sd", "range"] = "t95"
    """Band around a level's mean over seeds: t95 (95 % t-interval, kept inside [0, 100] %),
    sd (one standard deviation) or range (lowest to highest seed); with fewer than 3 seeds
    every seed's point and their range are drawn instead of a band."""
    fit_lines: bool = False
    """Draw each strategy's fit err = a * MACs^-b on the top-1-vs-MACs figure."""
    cam_images: int = Field(4, ge=0)
    """Held-out images (rows) of the class-activation-map grid; 0 draws none."""
    formats: list[Literal["png", "pdf", "svg"]] = ["png", "pdf", "svg"]
    """File formats of every figure."""
    width: Literal["single", "double"] = "single"
    """Figure width: one column (3.4 in) or two (7.0 in) of a two-column paper."""
    caption: bool = True
    """Print the caption on the figure too (it is always written beside it as .txt)."""
    trust_code: bool = False
    """Import the model builders and strategy classes that result files name, outside
    scalebench's own (the CAM grid needs them); off: those maps are skipped with a line
    saying so. The end of a sweep trusts the configs its user composed."""
    test_resolution: Literal["train", "best"] = "train"
    """Top-1 of each point at its training side (train) or at its best side of
    eval.test_scales (best: the side with the best validation top-1, its test top-1 drawn, and
    the captions say so). best needs data.val_fraction > 0: without a validation split it is
    refused in one line, by bench.run at validation and by bench.plot when a point has none."""


class Decide(Section):
    """``decide.*``: paired verdicts per level, and seeds added until they are decided."""

    max_seeds: int = Field(0, ge=0)
    """In a multirun, add seeds (the next integers) to every level still undecided, round after
    round, until it is decided or has this many seeds; 0: off (the report still decides)."""
    margin: float = Field(0.01, gt=0, lt=1)
    """Top-1 difference (a fraction: 0.01 is one point) within which two strategies tie; also the
    difference the "seeds that would decide" estimate is for."""
    confidence: float = Field(0.95, gt=0.5, lt=1)
    """Confidence of a level's named winner: wrong at most 1 - confidence of the time over all
    the looks of an adaptive sweep (alpha split evenly over them; each look's intervals are
    drawn at 1 - alpha / looks); the baseline comparisons Holm-corrected per level."""
    pool: Literal["sweep", "level"] = "sweep"
    """Where the paired noise of strategy comparisons is pooled: over every level of the sweep
    (assumes one noise sd for all its strategies and levels; more degrees of freedom) or per
    level (assumes it only within a level)."""


class Eval(Section):
    """``eval.*``: how a trained point is evaluated (bench.train.eval_sides)."""

    flip: bool = True
    """Average each held-out image's prediction with its mirror image's in the final
    evaluations (top1, the other test sides, validation): the training augmentation flips, so
    the label survives a flip, and averaging the two views halves the part of a point's top-1
    that is one view's luck. The learning curve's evaluations do not flip."""
    curve_images: int | None = Field(2000, ge=1)
    """Held-out images (the first of the test split) evaluated every train.eval_every epochs
    for the learning curve and the still-improving flag; the final top1 uses every test image.
    null: every test image each time."""
    test_scales: list[Annotated[float, Field(gt=0, le=4)]] = [1.0]
    """Multipliers of the point's resolution it is also tested at after training, rounded
    like resolutions; the training side is always one (top1 stays its value). Networks
    trained on random crops often score higher tested larger (FixRes): [1, 1.15, 1.3]
    measures it, at one more full evaluation per side. [] or [1]: only the training side."""
    inference_seconds: float = Field(0.5, ge=0)
    """Seconds spent timing each trained point's batch-1 latency and eval-batch throughput
    (latency_ms, inference_images_per_sec), warm-up passes included; a network whose passes
    outlast it is timed over at least one pass of each. More gives steadier numbers on a busy
    machine; 0 times the warm-ups and one pass of each."""


class Tune(Section):
    """``tune.*``: per-point learning-rate tuning on a validation split."""

    lrs: list[Annotated[float, Field(gt=0)]] = []
    """Candidate peak learning rates; each point trains once per rate and keeps the one with
    the best validation top-1 (needs data.val_fraction > 0). []: train.lr only, no tuning."""


class Search(Section):
    """``search.*``: `bench.search`, EfficientNet's phi = 1 grid, ranked on validation top-1.

    The grid is over alpha, beta, gamma. Candidates are ranked by top-1 on the validation
    split (``data.val_fraction``, 0.1 in ``conf/search.yaml``; 0 is refused), never by test
    top-1, which is only reported beside it."""

    min: float = Field(1.0, ge=1)
    """Smallest value of each factor."""
    max: float = Field(1.4, ge=1)
    """Largest value of each factor."""
    step: float = Field(0.2, gt=0)
    """Grid spacing (0.05 puts the paper's 1.2 / 1.1 / 1.15 on the grid)."""
    tolerance: float = Field(0.1, gt=0)
    """Keep candidates with |alpha * beta^2 * gamma^2 - 2| <= tolerance."""
    seeds: int | list[Annotated[int, Field(ge=0)]] = 1
    """Seeds per candidate: a count, or a list such as [0, 1, 2]; candidates are ranked by
    their mean validation top-1 (data.val_fraction), ties to fewer activations."""
    mode: Literal["matched", "literal"] = "matched"
    """matched: every candidate at exactly 2x MACs; literal: d=alpha, w=beta, r=gamma."""
    out: str | None = None
    """Where the winner's strategy YAML goes (default: conf/strategy/compound_<model>_<data>)."""

    @model_validator(mode="after")
    def _grid_goes_up(self) -> Search:
        if self.max < self.min:
            raise ValueError(f"max={self.max:g} must be at least min={self.min:g}")
        return self

    def seed_list(self) -> list[int]:
        """``seeds`` as a list: a count (3 -> 0, 1, 2) or the explicit seeds."""
        if isinstance(self.seeds, int):
            return list(range(self.seeds))
        return list(self.seeds)


class Run(Section):
    """The top level: which point, where it goes, and every section."""

    phi: float = 0.0
    """Budget level: target MACs = baseline MACs * 2**phi."""
    seed: int = Field(0, ge=0)
    """Training seed (weights, batch order, augmentation)."""
    device: Device = "auto"
    """auto | cpu | cuda | cuda:N."""
    threads: int | None = Field(None, ge=1)
    """CPU threads per job (null: torch's default); 1 when joblib runs 2 jobs on 2 cores."""
    runs_dir: RunsDir = "runs"
    """Sweeps are written to <runs_dir>/<sweep>/ (~ and $VARS expanded, once, for every file)."""
    sweep: FolderName = "${model.name}-${data.name}-${train.budget}${train.epochs}"
    """The sweep's folder name (a plain name inside runs_dir); set it when you sweep other
    keys (say train.lr)."""
    train: Train = Train()
    logger: Logger = Logger()
    plan: Plan = Plan()
    plot: Plot = Plot()
    decide: Decide = Decide()
    eval: Eval = Eval()
    tune: Tune = Tune()
    model: SerializeAsAny[ModelConfig]
    data: SerializeAsAny[DataConfig]
    strategy: Any
    """The scaling strategy (a bench.scaling.strategies.Strategy, validated by its class)."""
    search: Search | None = None
    """Only in `bench.search`."""

    @model_validator(mode="after")
    def _tuning_needs_validation(self) -> Run:
        if self.tune.lrs and not self.data.val_fraction:
            raise ValueError(
                "tune.lrs needs a validation split to choose on: set data.val_fraction "
                "(say 0.1); choosing on the test split would report a number chosen on it"
            )
        return self

    @model_validator(mode="after")
    def _choices_need_validation(self) -> Run:
        if self.data.val_fraction:
            return self
        if self.plot.test_resolution == "best":
            raise ValueError(
                "plot.test_resolution=best chooses each point's test side on a validation "
                "split: set data.val_fraction (say 0.1) or plot.test_resolution=train; choosing "
                "on the test split would report a number chosen on it"
            )
        if self.search is not None:
            raise ValueError(
                "bench.search ranks candidates on a validation split: set data.val_fraction "
                "above 0 (conf/search.yaml's 0.1, say); ranking on the test split would report "
                "a number chosen on it"
            )
        return self

    @field_validator("phi")
    @classmethod
    def _sensible_level(cls, phi: float) -> float:
        if not (math.isfinite(phi) and abs(phi) <= 12):
            raise ValueError("must be a number between -12 and 12")
        return phi


SECTIONS = {
    "train": Train, "logger": Logger, "plan": Plan, "plot": Plot, "decide": Decide, "eval": Eval,
    "tune": Tune,
}  # fmt: skip
TOP_LEVEL = ("phi", "seed", "device", "threads", "runs_dir", "sweep")
