"""Old place of :func:`validate`, kept for code that imports it from here: checking a whole
run's config needs every data kind, model family and strategy, so it lives above them, in
:mod:`bench.validate`."""

from bench.validate import validate  # noqa: F401
