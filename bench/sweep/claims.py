"""Old place of the claims that guard a point's folder, kept for code that imports them from
here: a training job claims its own point, so they live beside the store, in
:mod:`bench.claims`."""

from bench.claims import (  # noqa: F401
    Claim,
    ClaimLost,
    describe,
    machine,
    reuse_or_claim,
    start_ticks,
)
