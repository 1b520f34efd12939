"""Old place of the run's places check, kept for ``conf/config.yaml``'s Hydra callback
(``bench.config.places.CheckPlaces``) and code that imports it from here: checking the data
needs the data room, so it lives above it, in :mod:`bench.places`."""

from bench.places import CheckPlaces, check_places, check_writable  # noqa: F401
