"""A provider's rate limit, kept by every worker together: one token bucket per channel.

Providers sell a rate (messages a second) and answer 429 beyond it. Each worker process sends
from several threads, and several workers send at once, so the bucket lives in Redis and one
Lua script reserves a slot atomically (GCRA, the "generic cell rate algorithm": the bucket is
one number, the theoretical arrival time of the next message). A reservation says how long to
wait before sending; one that would wait longer than the caller will is not taken, and the
caller defers the message instead. A provider's ``Retry-After`` holds the whole channel for
every worker (``hold``).

Without Redis (``make run``'s embedded broker) the bucket is the process's own, which is right
for the one worker that setting runs.
"""

import threading
import time
from functools import cache
from typing import Protocol

import redis
from django.conf import settings

# KEYS[1]: the channel's bucket. ARGV: interval (seconds a message), tolerance (seconds of
# burst), the longest wait the caller takes, and a hold (seconds; 0 for a reservation).
# Returns the wait in microseconds as a string (Lua numbers become integers), or "-<wait>"
# when the caller would have to wait longer than it will: nothing is reserved then.
# The clock is the Redis server's, so the workers' clocks need not agree.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local longest, hold = tonumber(ARGV[3]), tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if hold > 0 then
    local held = now + hold + tolerance
    if held > tat then tat = held end
    redis.call('SET', KEYS[1], string.format('%.6f', tat), 'EX', math.ceil(hold + tolerance) + 60)
    return '0'
end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > longest then return string.format('-%d', wait * 1000000) end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', tat), 'EX', math.ceil(tat - now) + 60)
return string.format('%d', wait * 1000000)
"""

KEY = "desk:rate:{channel}"


class Bucket(Protocol):
    def reserve(self, *, longest: float) -> float | None:
        """Seconds to wait before sending one message (0: now), or None when that would be
        longer than ``longest``: nothing is reserved."""
        ...

    def hold(self, seconds: float) -> None:
        """The provider asked to wait: nobody sends on this channel for ``seconds``."""
        ...


def _shape(rate: float) -> tuple[float, float]:
    """(interval, tolerance) for ``rate`` a second, 0 for none: a burst of one second's worth
    may go at once after a quiet spell, never more."""
    if rate <= 0:
        return 0.0, 0.0
    interval = 1 / rate
    return interval, max(rate - 1, 0) * interval


class RedisBucket:
    def __init__(self, channel: str, rate: float, client: redis.Redis) -> None:
        self.key = KEY.format(channel=channel)
        self.interval, self.tolerance = _shape(rate)
        self.script = client.register_script(_SCRIPT)

    def _call(self, longest: float, hold: float) -> float:
        answer = self.script(keys=[self.key], args=[self.interval, self.tolerance, longest, hold])
        return int(answer) / 1_000_000

    def reserve(self, *, longest: float) -> float | None:
        wait = self._call(longest, 0)
        return None if wait < 0 else wait

    def hold(self, seconds: float) -> None:
        self._call(0, max(seconds, 0.001))


class LocalBucket:
    """The same arithmetic for one process."""

    def __init__(self, channel: str, rate: float) -> None:
        self.interval, self.tolerance = _shape(rate)
        self.tat = 0.0
        self.lock = threading.Lock()

    def reserve(self, *, longest: float) -> float | None:
        with self.lock:
            now = time.monotonic()
            tat = max(self.tat, now)
            wait = max(tat - self.tolerance - now, 0.0)
            if wait > longest:
                return None
            self.tat = tat + self.interval
            return wait

    def hold(self, seconds: float) -> None:
        with self.lock:
            now = time.monotonic()
            self.tat = max(self.tat, now + seconds + self.tolerance)


def channel_rate(channel: str) -> float:
    """Messages a second the provider of ``channel`` takes (0: no limit of ours)."""
    return float(settings.SEND_RATES.get(channel, 0))


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


@cache
def local_bucket(channel: str, rate: float) -> LocalBucket:
    """The process's own bucket of ``channel``: one for all its chunks and lanes."""
    return LocalBucket(channel, rate)


def bucket_for(channel: str) -> Bucket:
    """The channel's shared bucket at its configured rate. Holds count even where the rate is
    unlimited: a 429 says the provider has a limit of its own."""
    rate = channel_rate(channel)
    if settings.REDIS_URL:
        return RedisBucket(channel, rate, _redis(settings.REDIS_URL))
    return local_bucket(channel, rate)


def buckets_reset() -> None:
    """Forget every channel's turns and holds (a provider's 429 included): the next message on
    each goes at once. For tests, and for an operator once a provider's limit was lifted."""
    local_bucket.cache_clear()
    if settings.REDIS_URL:
        _redis(settings.REDIS_URL).delete(*(KEY.format(channel=c) for c in ("email", "sms")))
