"""A provider's rate limit, kept by every worker together: one token bucket per channel.

Providers sell a rate (messages a second) and answer 429 beyond it. Each worker process sends
from several threads, and several workers send at once, so the bucket lives in Redis and one
Lua script reserves a slot atomically (GCRA, the "generic cell rate algorithm": the bucket is
one number, the theoretical arrival time of the next message). A reservation says how long to
wait before sending; one that would wait longer than the caller will is not taken, and the
caller defers the message instead. A provider's ``Retry-After`` holds the whole channel for
every worker (``hold``).

Without Redis (``make run``'s embedded broker) the bucket is the process's own, which is right
for the one worker that setting runs. While Redis does not answer, ``ChannelBucket`` keeps the
rate in the process's own bucket and asks Redis again only every REDIS_LOOK_AGAIN seconds.

A message sent on its own (an agent's macro, a reminder, a campaign's test send) does not queue
behind a campaign: ``rate_charge`` counts it in the rate and it goes at once; the campaigns'
next slots move back by one.
"""

import logging
import threading
import time
from functools import cache
from typing import Protocol

import redis
from django.conf import settings

log = logging.getLogger(__name__)

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


# Seconds the process keeps its own buckets after Redis failed before it asks Redis again: a
# Redis that times out (rather than refusing at once) would otherwise cost every message the
# connect timeout. Meanwhile each worker keeps the rate on its own, so together they may send
# at up to a multiple of it, as they would if Redis were not set at all.
REDIS_LOOK_AGAIN = 30.0
# Seconds between looks for a hold on a channel with no rate of ours.
HOLD_LOOK_EVERY = 0.25
# A longest wait no slot is beyond (finite: the script reads it as a number).
NEVER_REFUSED = 1e9


class _RedisWatch:
    """When (``time.monotonic``) this process asks Redis again; 0 while it answers."""

    down_until = 0.0


class ChannelBucket:
    """The channel's shared bucket, or this process's own while Redis does not answer: sending
    goes on at the configured rate rather than stopping. One for a chunk or a single send."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.shared: Bucket = bucket_for(channel)
        # The process's own, kept across chunks: a bucket of each chunk's own would let every
        # chunk (and every task a threaded worker runs at once) send at the full rate.
        self.local = local_bucket(channel, channel_rate(channel))
        # With no rate of ours the bucket carries only holds (a provider's 429), which are
        # looked for now and then rather than before every message: until this monotonic time
        # none was there.
        self.unlimited = channel_rate(channel) <= 0
        self.clear_until = 0.0

    def _redis_failed(self, exc: redis.RedisError) -> None:
        if not _RedisWatch.down_until:
            log.warning("rate limit of %s kept locally, Redis failed: %s", self.channel, exc)
        _RedisWatch.down_until = time.monotonic() + REDIS_LOOK_AGAIN

    def _redis_down(self) -> bool:
        down_until = _RedisWatch.down_until
        if down_until and time.monotonic() >= down_until:
            _RedisWatch.down_until = 0.0
            return False
        return bool(down_until)

    def reserve(self, *, longest: float) -> float | None:
        """As ``Bucket.reserve``."""
        if self.unlimited and time.monotonic() < self.clear_until:
            return 0.0
        if self._redis_down():
            wait = self.local.reserve(longest=longest)
        else:
            try:
                wait = self.shared.reserve(longest=longest)
            except redis.RedisError as exc:
                self._redis_failed(exc)
                wait = self.local.reserve(longest=longest)
        if self.unlimited and wait == 0:
            self.clear_until = time.monotonic() + HOLD_LOOK_EVERY
        return wait

    def hold(self, seconds: float) -> None:
        """As ``Bucket.hold``."""
        self.clear_until = 0.0
        if not self._redis_down():
            try:
                self.shared.hold(seconds)
                return
            except redis.RedisError as exc:
                self._redis_failed(exc)
        self.local.hold(seconds)


def rate_charge(channel: str) -> None:
    """Count one message sent on its own in ``channel``'s rate, without waiting for a slot: an
    agent's message goes at once, and the campaigns sending meanwhile leave room for it."""
    if channel_rate(channel) > 0:
        ChannelBucket(channel).reserve(longest=NEVER_REFUSED)


def buckets_reset() -> None:
    """Forget every channel's turns and holds (a provider's 429 included): the next message on
    each goes at once. For tests, and for an operator once a provider's limit was lifted."""
    local_bucket.cache_clear()
    _RedisWatch.down_until = 0.0
    if settings.REDIS_URL:
        _redis(settings.REDIS_URL).delete(*(KEY.format(channel=c) for c in ("email", "sms")))
