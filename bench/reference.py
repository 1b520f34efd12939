"""``python -m bench.reference > docs/config.md``: every config key, from the schema itself.

The reference is generated, never written by hand, so it cannot drift from
the keys the code reads; a test regenerates it and compares.
"""

from __future__ import annotations

import sys
import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

HEADER = """\
# Configuration reference

Generated from `bench/schema.py` and the classes it names by
`python -m bench.config.reference > docs/config.md`; do not edit by hand. Every key
is declared once, with its type, default and comment; a preset in `conf/`
only says what it changes. Set any key on the command line
(`train.epochs=5`), in a preset, or in your own config folder
(`--config-dir`, see the README).
"""


BOUNDS = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}


def _type(annotation: Any) -> str:
    """``int``, ``float or null``, ``epochs / flops``, ``auto / true / false``."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Literal:
        return " / ".join(str(a) for a in args)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        parts = [_type(a) for a in args if a is not type(None)]
        text = " / ".join("true / false" if p == "bool" else p for p in parts)
        return text + (" or null" if type(None) in args else "")
    if typing.get_origin(annotation) is typing.Annotated:
        return _type(args[0])
    if typing.get_origin(annotation) is list:
        return f"list of {_type(args[0])}" if args else "list"
    return getattr(annotation, "__name__", str(annotation))


def _bounds(field: Any) -> str:
    """Numeric bounds of a field as ``≥ 0, < 1``; validators are not shown."""
    out = []
    for item in field.metadata:
        for name, sign in BOUNDS.items():
            if getattr(item, name, None) is not None:
                out.append(f"{sign} {getattr(item, name):g}")
    return ", ".join(out)


def _default(field: Any) -> str:
    if field.default is PydanticUndefined and field.default_factory is None:
        return "required"
    value = field.default_factory() if field.default_factory is not None else field.default
    if isinstance(value, BaseModel):
        return "(section)"
    return f"`{value!r}`" if not isinstance(value, str) else f"`{value}`"


def section(title: str, cls: type[BaseModel], prefix: str, skip: tuple[str, ...] = ()) -> str:
    """A Markdown table of a schema class's own keys: key, type, default, comment."""
    rows = [f"## {title}\n", f"{(cls.__doc__ or '').strip().splitlines()[0]}\n"]
    rows += ["| key | type | default | what it is |", "|---|---|---|---|"]
    for name, field in cls.model_fields.items():
        if name in skip:
            continue
        comment = " ".join((field.description or "").split()).replace("|", "\\|")
        bounds = _bounds(field)
        kind = _type(field.annotation) + (f", {bounds}" if bounds else "")
        rows.append(f"| `{prefix}{name}` | {kind} | {_default(field)} | {comment} |")
    return "\n".join(rows) + "\n"


def _preset_classes(group: str, of: Any) -> list[type[BaseModel]]:
    """The config classes the presets of ``conf/<group>/`` use, in preset order, once each."""
    import yaml

    from bench.config.compose import CONF_DIR

    found: list[type[BaseModel]] = []
    for path in sorted((CONF_DIR / group).glob("*.yaml")):
        cls = of(yaml.safe_load(path.read_text()))
        if cls not in found:
            found.append(cls)
    return found


def section_class(annotation: Any) -> type[BaseModel] | None:
    """The schema class of a top-level field that is a section (``Search | None`` too)."""
    for candidate in (annotation, *typing.get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def section_classes() -> dict[str, type[BaseModel]]:
    """Every section of the schema, by key, in the order :class:`bench.schema.Run` declares them.

    ``strategy`` is typed ``Any`` there (its class is chosen by ``_target_``):
    its shared keys are :class:`bench.scaling.Strategy`'s.
    """
    from bench import schema
    from bench.scaling.strategies import Strategy

    found = {}
    for name, field in schema.Run.model_fields.items():
        cls = Strategy if name == "strategy" else section_class(field.annotation)
        if cls is not None:
            found[name] = cls
    return found


def variants() -> dict[str, list[type[BaseModel]]]:
    """The sections whose keys depend on a choice: each family's, data kind's, strategy's class."""
    from bench.config.checks import import_path
    from bench.data import KINDS
    from bench.models import model_schema

    return {
        "model": _preset_classes("model", model_schema),
        "data": list(dict.fromkeys(kind for kind, _ in KINDS.values())),
        "strategy": _preset_classes("strategy", lambda n: import_path(n["_target_"], "_target_")),
    }


def reference() -> str:
    """docs/config.md's text: the top level, then a section per schema section, looped over
    :class:`bench.schema.Run`; a section that varies adds one table per variant."""
    from bench import schema

    sections = section_classes()
    parts = [HEADER, section("Top level", schema.Run, "", skip=tuple(sections))]
    for name, cls in sections.items():
        shared = tuple(cls.model_fields)
        parts.append(section(name, cls, f"{name}."))
        for variant in variants().get(name, []):
            if variant is not cls:
                parts.append(section(f"{name}: {variant.__name__}", variant, f"{name}.", shared))
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(reference())
