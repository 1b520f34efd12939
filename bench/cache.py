"""The one in-process cache: least-recently-used, keyed, made on demand.

Planning counts the same rounded networks again and again, and the jobs of
a multirun share one process, so data splits, resized images and counted
networks are kept by key and dropped oldest first.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class LRU(Generic[V]):
    """At most ``size`` values; ``get(key, make)`` returns the kept value or makes and keeps it."""

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self._items: OrderedDict[Hashable, V] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept for ``key``, made by ``make()`` the first time."""
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = make()
        self._items[key] = value
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def clear(self) -> None:
        """Forget everything kept."""
        self._items.clear()
