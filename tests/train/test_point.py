"""bench.train.point: one point's pipeline in-process, on tiny real settings."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import torch
from conftest import SMALL, results, sweep_of

from bench.errors import UserError
from bench.hardware.distributed import Dist
from bench.scaling.regularization import SLOPE
from bench.store import point_paths
from bench.train import network
from bench.train.identity import training_key
from bench.train.loop import Outcome
from bench.train.point import plan_data_budget, run_point
from bench.train.provenance import versions
from bench.train.record import INTERFACE, PointResult


def test_one_point_learns_and_records_everything(compose, tmp_path):
    cfg = compose(
        f"runs_dir={tmp_path}",
        "data.train_size=2048",
        "data.test_size=512",
        "train.epochs=3",
        "train.batch_size=64",
        "logger.mode=disabled",
        "strategy=width",
        "phi=1",
        "eval.test_scales=[1,1.15,1.3]",
        "eval.curve_images=100",
    )
    result = run_point(cfg)
    assert result["status"] == "ok", result.get("reason")
    assert list(result)[:16] == list(INTERFACE)
    # the learning curve evaluates the first 100 test images, the final top-1 all 512
    assert all(h["top1"] * 100 == pytest.approx(round(h["top1"] * 100)) for h in result["history"])
    assert result["top1"] * 512 == pytest.approx(round(result["top1"] * 512))
    assert set(result) == set(PointResult().to_json())  # every key of the one record
    history = result["history"]
    assert [round(h["epoch"]) for h in history] == [1, 2, 3]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert result["top1"] > 0.2  # ten classes: chance is 0.10
    assert 0 <= result["top1"] <= result["top5"] <= 1
    assert result["macs_ratio"] == pytest.approx(1, abs=0.05) and result["within_tolerance"]
    assert result["width_mult"] > 1 and result["depth_mult"] == 1
    budget = result["budget_detail"]
    assert result["train_flops"] == budget["train_flops"] == 6 * result["macs"] * budget["samples"]
    assert result["epochs"] == budget["epochs"] == pytest.approx(3, rel=0.05)
    assert {"torch", "timm", "hydra", "git_commit"} <= set(result["versions"])
    assert result["config"]["strategy"]["name"] == "width"
    assert result["config"]["strategy"]["_target_"] == "bench.scaling.strategies.Multiplicative"
    assert result["config"]["train"]["amp"] == "auto"  # as configured; what ran is below
    on_disk = json.loads((tmp_path / cfg.sweep / "width_phi1_seed0" / "result.json").read_text())
    assert on_disk == result
    assert result["compiled"] is False and result["compile_seconds"] is None
    assert result["amp"] is False  # train.amp=auto: bf16 on CUDA only
    assert result["channels_last"] is True  # train.channels_last=auto: on, CPU included
    assert 0 < result["timings"]["first_step"] < result["timings"]["train"]
    by_side = result["top1_by_test_resolution"]  # eval.test_scales=[1,1.15,1.3]
    assert list(by_side) == ["40", "48", "52"] and by_side["40"] == result["top1"]
    assert result["val_top1_by_test_resolution"] is None  # no validation split: no choice
    assert result["best_test_resolution"] is None and result["top1_at_best_test_resolution"] is None


def forward_dtypes() -> tuple[set, Any]:
    """The dtypes every convolution returns while the hook is registered (any model)."""
    seen: set = set()

    def hook(module, inputs, output):
        if isinstance(module, torch.nn.Conv2d) and module.training:
            seen.add(output.dtype)

    return seen, torch.nn.modules.module.register_module_forward_hook(hook)


@pytest.mark.parametrize("amp", ["off", "true"])
def test_amp_changes_what_the_forward_computes_in_and_the_point_still_learns(compose, small, amp):
    seen, handle = forward_dtypes()
    try:
        result = run_point(
            compose(
                *small,
                "device=cpu",
                f"train.amp={amp}",
                "train.epochs=2",
                "train.loss_check_every=5",
            )
        )
    finally:
        handle.remove()
    assert seen == ({torch.bfloat16} if amp == "true" else {torch.float32})
    assert result["status"] == "ok" and result["amp"] is (amp == "true")
    losses = [h["train_loss"] for h in result["history"]]
    assert len(losses) == 2 and losses[1] < losses[0]  # it learns in bf16 too


def test_compile_seconds_is_the_first_steps_excess_over_a_steady_step():
    def outcome(steps, resumed, timings, compiled=True):
        return Outcome("ok", None, 0.5, 0.9, [], steps, 1.0, timings, resumed, compiled=compiled)

    timings = {"train": 30.0, "train_this_process": 30.0, "first_step": 21.0}
    assert outcome(10, 0, timings).compile_seconds() == 20.0  # 1 slow step, 9 steps of 1 s
    assert outcome(10, 0, timings, compiled=False).compile_seconds() is None
    # resumed at step 10 of 20 after 100 s: only this process's 10 steps and 30 s count
    resumed = {"train": 130.0, "train_this_process": 30.0, "first_step": 21.0}
    assert outcome(20, 10, resumed).compile_seconds() == 20.0


def test_finished_point_is_skipped_and_identical_points_are_shared(compose, small):
    first = run_point(compose(*small, "strategy=depth", "phi=0"))
    assert first["status"] == "ok" and not first["shared"] and first["version_note"] is None
    again = run_point(compose(*small, "strategy=depth", "phi=0"))
    assert again == first  # read back, not retrained
    trained = sweep_of(compose(*small)) / "trained"
    (outcome,) = trained.rglob("outcome.json")
    (checkpoint,) = trained.rglob("checkpoint.pt")
    saved = json.loads(outcome.read_text())
    assert saved["versions"] == versions() == first["versions"]  # what made it, in all three
    assert torch.load(checkpoint, weights_only=True)["versions"] == versions()
    outcome.write_text(json.dumps({**saved, "versions": {**versions(), "scalebench": "0.0.1"}}))
    other = run_point(compose(*small, "strategy=width", "phi=0"))
    assert other["shared"] and other["top1"] == first["top1"]
    assert "scalebench 0.0.1 (this run:" in other["version_note"]  # reused across versions
    assert other["strategy"] == "width" and other["trained_by"] == "depth_phi0_seed0"
    assert len(list((sweep_of(compose(*small)) / "trained").iterdir())) == 1


def test_training_key_lists_what_decides_learning(config, tmp_path):
    def key(*overrides):
        c = config(*SMALL, *overrides)
        paths = point_paths(tmp_path, "s", c.strategy.name, c.phi, c.seed)
        point, _ = plan_data_budget(c, paths, torch.device("cpu"), Dist())
        assert point.paths.key == training_key(point)
        return point.paths.key

    base = key()
    assert key("train.log_every_seconds=1", "train.eval_batch_size=64") == base  # watching
    assert key("train.checkpoint_every=2", "logger.project=x") == base
    assert key("train.checkpoint_seconds=5") == base
    assert key("train.lr=0.1") != base  # learning
    assert key("seed=1") != base
    assert key("data.seed=1") != base  # other images
    assert key("model.drop_rate=0.2") != base
    assert key("eval.curve_images=50") == base  # how the curve is watched
    assert key("eval.flip=false") != base  # what the shared outcome's top-1 measures


def test_every_train_key_is_learning_or_watching():
    from bench.schema import Train

    learning, watching = set(Train.LEARNING), set(Train.WATCHING)
    assert not learning & watching
    assert learning | watching == set(Train.model_fields)


def test_bad_config_in_process_is_a_user_error_before_anything_is_written(compose, tmp_path):
    with pytest.raises(SystemExit):
        run_point(compose(f"runs_dir={tmp_path}", *SMALL, "train.epochs=0"))
    assert not list(tmp_path.rglob("result.json"))


def test_infeasible_point_records_a_failed_result(compose, small):
    with pytest.raises(SystemExit):
        run_point(compose(*small, "strategy=depth", "phi=-5"))
    (result,) = results(sweep_of(compose(*small))).values()
    assert result["status"] == "failed" and "closest is" in result["reason"]
    assert set(result) == set(PointResult().to_json())


def test_a_failure_never_replaces_a_finished_result(compose, small, monkeypatch):
    first = run_point(compose(*small, "strategy=depth", "phi=0"))

    def broken(*args, **kwargs):
        raise UserError("no data today")

    monkeypatch.setattr("bench.train.point.load_data", broken)
    with pytest.raises(SystemExit):
        run_point(compose(*small, "strategy=depth", "phi=0"))
    (again,) = results(sweep_of(compose(*small))).values()
    assert again == first


def test_a_point_rounding_keeps_off_target_trains_at_its_closest_network_flagged(compose, small):
    # a quarter-width VGG-11's depth phi=2 lands 2.6 % over its target: off a 2 % tolerance
    vgg = ["model=vgg11", "model.width_mult=0.25", "data.resolution=32", "plan.tolerance=0.02"]
    result = run_point(compose(*small, *vgg, "strategy=depth", "phi=2"))
    assert result["status"] == "ok" and result["within_tolerance"] is False
    assert result["macs_ratio"] == pytest.approx(1.026, abs=0.005)
    assert "trained there and flagged" in result["plan_note"]
    assert result["depths"] == [3, 3, 6, 6, 6]


def test_diagnostics_and_inference_timings_are_recorded(compose, small, monkeypatch):
    budgets: list[float] = []
    timed = network.measure_inference

    def spy(model: Any, device: Any, workload: Any, budget_seconds: float) -> dict[str, Any]:
        budgets.append(budget_seconds)
        return timed(model, device, workload, budget_seconds)

    monkeypatch.setattr(network, "measure_inference", spy)
    result = run_point(compose(*small, "eval.inference_seconds=0.05"))
    assert result["test_images"] == 256 and result["num_classes"] == 10
    assert isinstance(result["above_chance"], bool)
    assert result["still_improving"] is None  # one evaluation: too short to judge
    assert budgets == [0.05]  # eval.inference_seconds
    assert result["latency_ms"] > 0 and result["inference_images_per_sec"] > 0


@pytest.mark.slow
def test_compile_trains_a_compiled_graph_on_cpu_and_records_its_cost(compose, small, monkeypatch):
    """Through aot_eager, the backend without code generation: inductor's first build compiles
    C++ kernels, slow on a 2-core CPU (BENCHMARKS.md); benchmarks/gpu.py compiles with
    inductor on CUDA."""
    from torch._dynamo.utils import counters

    backends = []
    compile_ = torch.compile
    monkeypatch.setattr(torch, "compile", lambda m, **kw: backends.append(kw) or compile_(m, **kw))
    counters.clear()
    compiling = ("train.compile=true", "train.compile_backend=aot_eager")
    result = run_point(compose(*small, "device=cpu", *compiling, "train.epochs=2",
                               "train.loss_check_every=5"))  # fmt: skip
    assert backends == [{"backend": "aot_eager"}]  # the key reaches torch.compile
    assert counters["stats"]["unique_graphs"] >= 1  # dynamo captured the model's forward
    assert result["status"] == "ok" and result["compiled"] is True
    losses = [h["train_loss"] for h in result["history"]]
    assert len(losses) == 2 and losses[1] < losses[0]  # the compiled network learns
    assert result["compile_seconds"] is not None and result["compile_seconds"] > 0


def test_scaled_regularization_is_used_and_recorded(compose, small):
    tiny = (*small, "model=tiny", "strategy=width", "phi=1")
    fixed = run_point(compose(*tiny))
    assert fixed["drop_rate"] == 0.1 and fixed["drop_path_rate"] == 0.0  # tiny's own
    scaled = run_point(compose(*tiny, "train.regularization=scaled"))
    assert scaled["drop_rate"] == pytest.approx(0.1 + SLOPE * math.log2(scaled["macs"] /
                                                scaled["target_macs"] * 2), abs=1e-3)  # fmt: skip
    assert scaled["config"]["model"]["drop_rate"] == scaled["drop_rate"]
    assert scaled["point_key"] != fixed["point_key"]  # a different recipe, a different training


def test_gradient_clipping_bounds_every_steps_gradient(compose, small, monkeypatch):
    real, seen = torch.nn.utils.clip_grad_norm_, []

    def spy(parameters, max_norm, *args, **kwargs):
        parameters = [p for p in parameters if p.grad is not None]
        before = real(parameters, max_norm, *args, **kwargs)
        after = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in parameters]))
        seen.append((max_norm, float(before), float(after)))
        return before

    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", spy)
    result = run_point(compose(*small, "train.grad_clip=0.5"))
    assert result["status"] == "ok" and result["config"]["train"]["grad_clip"] == 0.5
    assert len(seen) == result["steps"] > 0  # once per optimiser step
    assert all(clip == 0.5 and after <= 0.5 * 1.001 for clip, _, after in seen)
    assert any(before > 0.5 for _, before, _ in seen)  # the bound did bite
