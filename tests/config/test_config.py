"""bench.config.compose: composing the real conf/, expanding sweeps, the point-folder resolver."""

from conftest import heavy_imports
from omegaconf import OmegaConf

from bench.config.compose import CONF_DIR, compose_config, compose_jobs, expand_sweep
from bench.store import point_name


def test_jobs_differing_in_phi_and_seed_compose_like_hydra():
    calls = []

    def counted(overrides):
        calls.append(overrides)
        return compose_config(overrides)

    jobs = expand_sweep(["strategy=compound,linear", "phi=0,1.5,2", "seed=0,1", "sweep=${phi}-x"])
    assert len(jobs) == 12
    for job, reused in zip(jobs, compose_jobs(jobs, counted), strict=True):
        expected = OmegaConf.to_container(compose_config(job), resolve=True)
        assert OmegaConf.to_container(reused, resolve=True) == expected, job
    assert len(calls) == 2  # one Hydra composition per strategy
    (bad,) = compose_jobs([["phi=abc"]])
    assert bad.phi == "abc"  # not a number: composed, refused by validation


def test_sweep_defaults_come_from_the_config():
    assert expand_sweep([]) == [["phi=0"], ["phi=1"], ["phi=2"]]
    assert expand_sweep(["phi=3", "strategy=depth,width"]) == [
        ["phi=3", "strategy=depth"],
        ["phi=3", "strategy=width"],
    ]


def test_point_folders_are_named_in_one_place():
    cfg = compose_config(["strategy=width", "phi=1.0", "seed=2"], return_hydra_config=True)
    assert cfg.hydra.sweep.subdir == point_name("width", 1.0, 2) == "width_phi1_seed2"
    assert cfg.hydra.run.dir.endswith("/width_phi1_seed2")
    half = compose_config(["phi=-0.5"], return_hydra_config=True)
    assert half.hydra.sweep.subdir == "compound_phi-0.5_seed0"


def test_configs_ship_with_the_package_layout():
    assert (CONF_DIR / "config.yaml").is_file() and (CONF_DIR / "model" / "tiny.yaml").is_file()


def test_checking_every_preset_loads_neither_torch_nor_timm(tmp_path):
    """A sweep checks every job, and a bad value gets its one line, before anything loads
    torch: the data kinds and model families keep torch and timm for loading and building."""
    code = f"""
from bench.config.compose import CONF_DIR, compose_config
from bench.config.validate import validate
from bench.sweep.start import check_jobs

models = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))
data = sorted(p.stem for p in (CONF_DIR / "data").glob("*.yaml"))
for model in models:
    for kind in data:
        validate(compose_config([f"model={{model}}", f"data={{kind}}"]))
jobs = [[f"model={{m}}", "runs_dir={tmp_path}", "strategy=width", "phi=1"] for m in models]
check_jobs(jobs, compose_config)
print(len(models), len(data))
"""
    printed, loaded = heavy_imports(code, tmp_path)
    models, kinds = printed.split()
    assert int(models) >= 8 and int(kinds) >= 5
    assert loaded == []
