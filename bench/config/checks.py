"""How a config problem is reported: one line naming the key, the value and what is allowed.

``train.amp='flase' must be auto, true or false``: every section's check
(:mod:`bench.schema`, a data kind's, a model family's, a strategy's class)
reports through :func:`one_line`, and a dotted path in a config is imported
by :func:`import_path`.
"""

from __future__ import annotations

import importlib
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bench.errors import UserError
from bench.schema import SECTIONS, Run, Search

S = TypeVar("S", bound=BaseModel)
_NAMED: dict[str, type[BaseModel]] = {**SECTIONS, "search": Search}


def import_path(path: str, key: str) -> Any:
    """The object a dotted path in the config names (``key`` says which key, for the error)."""
    module, _, name = str(path).rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise UserError(f"{key}={path!r} cannot be imported: {reason}") from None


def check_section(schema: type[S], node: dict[str, Any], prefix: str) -> S:
    """``node`` checked by ``schema``; a bad value is one UserError line under ``prefix``."""
    try:
        return schema.model_validate(node)
    except ValidationError as exc:
        raise UserError(one_line(exc, prefix, schema)) from None


def one_line(exc: ValidationError, prefix: str = "", schema: type | None = None) -> str:
    """The first problem pydantic found, as ``key=value must ...`` (or an unknown-key line)."""
    error = exc.errors()[0]
    loc = [str(p) for p in error["loc"]]
    key = ".".join([prefix, *loc] if prefix else loc)
    if error["type"] == "extra_forbidden":
        owner = ".".join([prefix, *loc[:-1]] if prefix else loc[:-1])
        section = _NAMED.get(loc[0]) if schema is Run and len(loc) == 2 else schema
        allowed = ", ".join(section.model_fields) if section and len(loc) <= 2 else ""
        tail = f"; allowed: {allowed}" if allowed else ""
        return f"{key} is not a key of {owner or 'the config'}{tail}"
    if error["type"] == "missing":
        return f"{key} is required but not set"
    message = re.sub(r"^(Value error|Assertion failed), ", "", error["msg"])
    message = re.sub(r"^Input should be", "must be", message)
    message = re.sub(r", unable to .*$", "", message)
    message = message.replace("must be a valid boolean", "must be true or false")
    if not loc or isinstance(error["input"], dict):  # a check of a whole section
        return f"{key or prefix or 'config'}: {message}"
    return f"{key}={error['input']!r} {message}"
