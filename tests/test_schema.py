"""bench.schema and bench.config.validate: every key declared once, checked in one place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO

from bench.config.compose import compose_config, defaults
from bench.config.reference import reference
from bench.config.validate import validate
from bench.errors import UserError
from bench.schema import SECTIONS, Logger, Plan, Run, Train, parse_auto, resolve_auto


def check(*overrides: str) -> Run:
    return validate(compose_config(list(overrides)))


@pytest.mark.parametrize(
    "override,message",
    [
        ("train.amp=flase", "train.amp='flase' must be auto, true or false"),
        ("train.compile=flase", "train.compile='flase' must be auto, true or false"),
        ("train.nesterov=ture", "train.nesterov='ture' must be true or false"),
        ("train.budget=flop", "train.budget='flop' must be 'epochs' or 'flops'"),
        ("train.epochs=0", "train.epochs=0 must be greater than 0"),
        ("train.lr=-1", "train.lr=-1 must be greater than 0"),
        ("train.momentum=1.5", "train.momentum=1.5 must be less than 1"),
        ("train.batch_size=0", "train.batch_size=0 must be greater than or equal to 1"),
        ("data.resolution=0", "data.resolution=0 must be greater than or equal to 8"),
        ("seed=abc", "seed='abc' must be a valid integer"),
        ("seed=-1", "seed=-1 must be greater than or equal to 0"),
        ("phi=abc", "phi='abc' must be a valid number"),
        ("phi=40", "phi=40 must be a number between -12 and 12"),
        ("device=gpu0", "device='gpu0' must be auto, cpu, cuda or cuda:N"),
        ("threads=0", "threads=0 must be greater than or equal to 1"),
        ("logger.mode=loud", "logger.mode='loud' must be 'auto', 'offline', 'online' or 'disab"),
        ("plan.tolerance=2", "plan.tolerance=2 must be less than 1"),
        ("model.width_mult=0", "model.width_mult=0 must be greater than 0"),
        ("model.drop_rate=1.5", "model.drop_rate=1.5 must be less than 1"),
        ("data.train_size=0", "data.train_size=0 must be greater than or equal to 1"),
        ("data.num_classes=99", "data.num_classes=99 must be less than or equal to 20"),
        ("+train.speed=3", "train.speed is not a key of train; allowed: budget, epochs"),
    ],
)
def test_a_bad_value_is_one_line_naming_key_value_and_what_is_allowed(override, message):
    with pytest.raises(UserError) as err:
        check(override)
    text = str(err.value)
    assert text.startswith(message) and "\n" not in text


@pytest.mark.parametrize(
    "value,parsed",
    [("auto", "auto"), ("AUTO", "auto"), (True, True), ("true", True), ("on", True),
     ("yes", True), (False, False), ("False", False), ("off", False), ("no", False), (0, False)],
)  # fmt: skip
def test_the_one_auto_parser(value, parsed):
    assert parse_auto(value) == parsed


@pytest.mark.parametrize("value", ["flase", "maybe", "", "2"])
def test_the_auto_parser_refuses_anything_else(value):
    with pytest.raises(ValueError, match="must be auto, true or false"):
        parse_auto(value)


def test_auto_resolves_to_the_callers_default():
    assert resolve_auto("auto", True) is True and resolve_auto("auto", False) is False
    assert resolve_auto(False, True) is False and resolve_auto(True, False) is True


def test_amp_off_is_false_never_true():
    assert check("train.amp=off").train.amp is False
    assert check("train.amp=true").train.amp is True
    assert check().train.amp == "auto"


def test_defaults_are_declared_once_and_reach_hydra():
    tree = defaults()
    assert tree["train"] == Train().model_dump(mode="json") | {"epochs": 3, "log_every_seconds": 10}
    assert tree["logger"]["mode"] == Logger().mode and tree["plan"] == Plan().model_dump()
    composed = compose_config([])
    assert composed.train.epochs == 3 and composed.sweep == "vgg_tiny-shapes-epochs3"
    config = check()
    assert config.train == Train() and config.logger == Logger() and config.plan == Plan()


def test_every_declared_key_is_read_somewhere():
    """Nothing is declared that nothing reads: each key appears as ``.key`` in bench/."""
    sources = "\n".join(
        p.read_text()
        for p in (REPO / "bench").rglob("*.py")
        if p.name not in ("schema.py", "schema_bases.py", "schema_types.py", "reference.py")
    )
    unread = []
    for name, cls in {**SECTIONS, "top": Run}.items():
        for key in cls.model_fields:
            if not re.search(rf"\.{key}\b", sources):
                unread.append(f"{name}.{key}")
    assert unread == []


def test_the_reference_is_up_to_date():
    on_disk = (REPO / "docs" / "config.md").read_text()
    assert on_disk == reference(), "regenerate: python -m bench.config.reference > docs/config.md"


def test_the_help_page_names_only_declared_keys():
    help_yaml = (REPO / "conf" / "hydra" / "help" / "scalebench.yaml").read_text()
    declared = {f"{n}.{k}" for n, cls in SECTIONS.items() for k in cls.model_fields}
    declared |= {"model.width_mult", "model.depth_mult", "data.resolution", "data.path"}
    mentioned = set(re.findall(r"\b((?:train|logger|plan|model|data)\.[a-z_]+)=", help_yaml))
    assert mentioned and mentioned <= declared, mentioned - declared


def test_every_preset_validates():
    conf = REPO / "conf"
    for group in ("model", "data", "strategy"):
        for preset in sorted((conf / group).glob("*.yaml")):
            tree = group == "data" and "path:" in preset.read_text()
            extra = ["data.path=/somewhere"] if tree else []
            config = check(f"{group}={preset.stem}", *extra)
            assert getattr(config, group).name, preset
    models = {"regime_map": "vgg_tiny"}  # the rest are the CIFAR-10 presets' VGG-11
    for preset in sorted((conf / "experiment").glob("*.yaml")):
        tree = "path" in compose_config([f"experiment={preset.stem}"]).data
        config = check(f"experiment={preset.stem}", *(["data.path=/x"] if tree else []))
        assert config.model.name == models.get(preset.stem, "vgg11"), preset


def test_search_section_only_in_bench_search():
    assert check().search is None
    search = validate(compose_config([], config_name="search")).search
    assert search is not None and search.seed_list() == [0]
    assert Path(REPO / "conf" / "search.yaml").is_file()
