"""bench.config.reference: the generated page covers every section of the schema and every key."""

from __future__ import annotations

from pydantic import BaseModel

from bench import schema
from bench.config.reference import reference, section_classes


def test_every_section_of_the_run_has_a_heading_and_every_key_a_row():
    page = reference()
    sections = section_classes()
    declared = {
        name
        for name, field in schema.Run.model_fields.items()
        if name == "strategy"
        or any(
            isinstance(c, type) and issubclass(c, BaseModel)
            for c in (field.annotation, *getattr(field.annotation, "__args__", ()))
        )
    }
    assert set(sections) == declared
    assert {"train", "logger", "plan", "plot", "model", "data", "strategy", "search"} <= declared
    for name, cls in sections.items():
        assert f"\n## {name}\n" in page, name
        for key in cls.model_fields:
            assert f"| `{name}.{key}` |" in page, f"{name}.{key}"


def test_a_new_section_gets_its_own_table(monkeypatch):
    class Extra(schema.Section):
        """``extra.*``: a section added to the schema."""

        knob: int = 3
        """A key of the new section."""

    fields = dict(schema.Run.model_fields)
    monkeypatch.setattr(schema.Run, "model_fields", {**fields, "extra": fields["plot"]})
    monkeypatch.setitem(schema.Run.model_fields, "extra", type(fields["plot"])(annotation=Extra))
    page = reference()
    assert "\n## extra\n" in page and "| `extra.knob` | int | `3` |" in page
