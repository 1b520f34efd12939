"""Old place of the model family's and data kind's base configs, kept for code that imports
them from here: they live on the floor, in :mod:`bench.schema_bases`."""

from bench.schema_bases import DataConfig, ModelConfig  # noqa: F401
