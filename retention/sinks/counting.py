"""What both sinks share: settings changed while they run, and the keys they counted.

A sink keeps ``lock``, ``settings`` (a dataclass) and ``counts`` (a dataclass with at least
``keys``, a Counter of deliveries per key, ``arrivals``, the time of each delivery,
``connections`` and ``peak_in_flight``); every read and change holds the lock, since the serving
thread writes while a test reads."""

import threading
import time
from collections import Counter
from typing import Any


class CountingSink:
    lock: threading.Lock
    settings: Any
    counts: Any

    def configure(self, **changes: Any) -> None:
        """Change settings while running, e.g. ``configure(error_rate=0.1)``."""
        with self.lock:
            for name, value in changes.items():
                if not hasattr(self.settings, name):
                    raise TypeError(f"unknown setting {name!r}")
                setattr(self.settings, name, value)

    @property
    def keys(self) -> Counter[str]:
        with self.lock:
            return Counter(self.counts.keys)

    @property
    def arrivals(self) -> list[float]:
        """When each delivery arrived, in order, on ``time.monotonic()`` (the sink runs in the
        reader's process): how many came in a window, to check a rate against."""
        with self.lock:
            return list(self.counts.arrivals)

    @property
    def unique(self) -> int:
        with self.lock:
            return len(self.counts.keys)

    @property
    def duplicates(self) -> int:
        """Deliveries beyond the first of each key."""
        with self.lock:
            return sum(self.counts.keys.values()) - len(self.counts.keys)

    @property
    def connections(self) -> int:
        with self.lock:
            return self.counts.connections

    def snapshot(self) -> dict[str, Any]:
        """Every count at once, as of ``at``: the deliveries, then the sink's own counts."""
        with self.lock:
            counts = self.counts
            delivered = sum(counts.keys.values())
            return {
                "at": time.time(),
                "delivered": delivered,
                "unique": len(counts.keys),
                "duplicates": delivered - len(counts.keys),
                **{name: getattr(counts, name) for name in self.counted},
                "connections": counts.connections,
                "peak_in_flight": counts.peak_in_flight,
            }

    def delivered(self, key: str) -> None:
        """Count one delivery of ``key``, arriving now. Called with ``lock`` held."""
        self.counts.keys[key] += 1
        self.counts.arrivals.append(time.monotonic())

    # The sink's own counts, in the order a snapshot lists them.
    counted: tuple[str, ...] = ()
