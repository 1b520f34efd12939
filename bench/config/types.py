"""Old place of the config value types, kept for code that imports them from here: they live
on the floor, in :mod:`bench.schema_types`, so the schema imports nothing above it."""

from bench.schema_types import (  # noqa: F401
    FALSE,
    TRUE,
    AutoBool,
    Device,
    FolderName,
    Fraction,
    RunsDir,
    Section,
    parse_auto,
    resolve_auto,
)
