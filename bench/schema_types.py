"""The value types every config section uses: booleans, auto-or-boolean, fractions, devices.

Each parses exactly the spellings it documents and nothing else, so a typo
such as ``train.amp=flase`` is refused rather than read as true.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

TRUE = ("true", "yes", "on", "1")
FALSE = ("false", "no", "off", "0")


def parse_auto(value: Any) -> str | bool:
    """``auto``, or a boolean: the one parser of every ``auto | true | false`` key.

    YAML 1.1's spellings of booleans (``on``/``off``, ``yes``/``no``) read as
    they do in YAML; anything else is refused rather than read as true.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "auto":
        return "auto"
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError("must be auto, true or false")


def resolve_auto(value: str | bool, auto: bool) -> bool:
    """An ``auto | true | false`` value as a decision; ``auto`` takes the caller's default."""
    return auto if value == "auto" else bool(value)


def _device(value: str) -> str:
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", value):
        raise ValueError("must be auto, cpu, cuda or cuda:N")
    return value


def _folder_name(value: str) -> str:
    """A plain folder name: what a sweep or strategy is called stays inside runs_dir."""
    bad = (not value or value in (".", "..") or value.startswith("~") or "\0" in value
           or any(sep in value for sep in ("/", "\\")))  # fmt: skip
    if bad:
        raise ValueError("must be a plain folder name (no /, \\, .., ~ or absolute path)")
    return value


def _expanded(value: str) -> str:
    from bench.store import expand_runs_dir

    if not str(value).strip():
        raise ValueError("must name a folder")
    return expand_runs_dir(value)


AutoBool = Annotated[Literal["auto"] | bool, BeforeValidator(parse_auto)]
Fraction = Annotated[float, Field(ge=0, lt=1)]
Device = Annotated[str, AfterValidator(_device)]
FolderName = Annotated[str, AfterValidator(_folder_name)]
RunsDir = Annotated[str, AfterValidator(_expanded)]


class Section(BaseModel):
    """A config section: unknown keys are errors; docstrings under fields are their comments."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)
