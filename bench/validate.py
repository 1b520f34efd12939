"""Turning a composed config into checked sections, with one line per problem.

Hydra composes ``conf/`` untyped (see :mod:`bench.schema`); :func:`validate`
checks it against the schema and the kind-specific classes (a data kind's,
a model family's, a strategy's), and every problem becomes one
:class:`~bench.errors.UserError` line (:mod:`bench.config.checks`).
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bench.config.checks import check_section, one_line
from bench.data import data_schema
from bench.errors import UserError
from bench.models import model_schema
from bench.scaling.strategies import strategy_from_config
from bench.schema import Run


def validate(cfg: Any) -> Run:
    """The composed config as typed, checked sections; a bad value is one UserError line.

    ``cfg`` is what Hydra composed (a DictConfig) or a plain mapping; its
    ``hydra`` node is ignored and interpolations are resolved.
    """
    tree = _plain(cfg)
    tree.pop("hydra", None)
    sections = {}
    for key, schema_of in (("model", model_schema), ("data", data_schema)):
        node = tree.get(key)
        if not isinstance(node, dict):
            raise UserError(f"{key} is not set; choose one, e.g. {key}=<name>")
        sections[key] = check_section(schema_of(node), node, key)
    sections["strategy"] = strategy_from_config(tree.get("strategy"))
    try:
        return Run.model_validate(tree | sections)
    except ValidationError as exc:
        raise UserError(one_line(exc, schema=Run)) from None


def _plain(cfg: Any) -> dict[str, Any]:
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    if isinstance(cfg, DictConfig):
        cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
        try:
            return OmegaConf.to_container(cfg, resolve=True)  # type: ignore[return-value]
        except OmegaConfBaseException as exc:
            raise UserError(" ".join(str(exc).split("\n")[0].split())) from None
    return dict(cfg)
