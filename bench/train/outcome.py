"""What training a point produced: ``outcome.json``, which identical points share."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Outcome:
    """What training a point produced: ``outcome.json``, shared by identical points."""

    status: str  # ok | diverged
    reason: str | None
    top1: float | None
    top5: float | None
    history: list[dict[str, Any]]
    steps: int
    images_per_sec: float | None
    timings: dict[str, float] = field(default_factory=dict)
    resumed_from_step: int = 0
    # how it was trained, filled in by the point pipeline
    compiled: bool = False
    channels_last: bool = False
    amp: bool = False
    sync_bn: bool = False
    device: dict[str, Any] = field(default_factory=dict)
    # what the trained network costs to run (bench.train.inference), on the training device
    latency_ms: float | None = None
    inference_images_per_sec: float | None = None
    peak_memory_mb: float | None = None
    trained_by: str | None = None
    top1_by_test_resolution: dict[str, float] | None = None  # bench.train.eval_sides
    val_top1: float | None = None  # on the validation split (data.val_fraction)
    val_top1_by_test_resolution: dict[str, float] | None = None  # the same sides, validation
    unreadable: dict[str, int] = field(default_factory=dict)  # streamed files skipped, by split
    versions: dict[str, Any] = field(default_factory=dict)  # what trained it (provenance)
    resumed_versions: dict[str, Any] = field(default_factory=dict)  # what wrote its checkpoint

    def compile_seconds(self) -> float | None:
        """torch.compile's cost: the first step's excess over a steady one (None: not compiled)."""
        t = self.timings
        steps = self.steps - self.resumed_from_step
        if not self.compiled or "first_step" not in t or steps < 2:
            return None
        steady = (t["train_this_process"] - t["first_step"]) / (steps - 1)
        return max(0.0, t["first_step"] - steady)

    def to_json(self) -> dict[str, Any]:
        """For ``outcome.json``."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        """Read back ``outcome.json`` (keys of other versions are dropped)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
