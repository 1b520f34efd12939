"""Old place of a point's provenance (versions, git commit), kept for code that imports it from
here: it lives on the floor, in :mod:`bench.provenance`, where the result record and the
tracker read it without importing training."""

from bench.provenance import (  # noqa: F401
    COMPARED,
    git_commit,
    learning_versions,
    version_note,
    versions,
)
