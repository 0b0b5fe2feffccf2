"""The channel's token bucket (retention.core.ratelimit): a burst of one second's worth, then
one slot every 1/rate seconds; a slot too far away is refused without being taken; a
provider's Retry-After holds everyone back.

The process's own bucket runs on a clock the tests move; the shared one runs in Redis on the
server's clock, which nothing here can stop, so its waits are compared within a few
milliseconds of what they must be (the time between two calls)."""

import uuid
from collections.abc import Iterator

import pytest
import redis

from retention.core import ratelimit
from retention.core.ratelimit import Bucket, LocalBucket, RedisBucket

# Redis's clock runs on between two reservations: a wait is exact but for that much.
REDIS_SLACK = 0.05


class Clock:
    """``time.monotonic`` for the local bucket, standing still until moved."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(ratelimit, "time", clock)
    return clock


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def own_channel(redis_client: redis.Redis) -> Iterator[str]:
    """A channel name of this test's own: its bucket's key is nobody else's, and only that key
    is deleted afterwards."""
    channel = f"test-{uuid.uuid4().hex}"
    yield channel
    redis_client.delete(ratelimit.KEY.format(channel=channel))


def reservations(bucket: Bucket, count: int, *, longest: float = 60) -> list[float]:
    waits = [bucket.reserve(longest=longest) for _ in range(count)]
    assert None not in waits
    return [w for w in waits if w is not None]


# --- The process's own bucket -------------------------------------------------------------------


def test_local_bucket_lets_one_seconds_worth_go_at_once_then_spaces_them_by_one_over_the_rate(
    clock: Clock,
):
    bucket = LocalBucket("sms", rate=4)

    assert reservations(bucket, 7) == [0, 0, 0, 0, 0.25, 0.5, 0.75]


def test_local_bucket_fills_again_while_nobody_sends(clock: Clock):
    bucket = LocalBucket("sms", rate=4)
    reservations(bucket, 6)  # the burst, then slots 0.25 and 0.5 s ahead: the next, 0.75

    clock.now += 0.75  # the next slot has come, the one after is a quarter second away
    assert reservations(bucket, 2) == [0, 0.25]
    clock.now += 10  # long quiet: still a burst of one second's worth, never more
    assert reservations(bucket, 5) == [0, 0, 0, 0, 0.25]


def test_local_bucket_refuses_a_slot_beyond_the_longest_wait_and_takes_nothing(clock: Clock):
    bucket = LocalBucket("sms", rate=4)
    assert reservations(bucket, 6)[-1] == 0.5  # the next slot is 0.75 s away

    assert bucket.reserve(longest=0.5) is None
    assert bucket.reserve(longest=0.5) is None
    # Had the refusals reserved their slots, this one would wait 1.25 s.
    assert bucket.reserve(longest=0.75) == 0.75


def test_local_bucket_held_makes_the_next_reservation_wait_that_long(clock: Clock):
    bucket = LocalBucket("sms", rate=4)

    bucket.hold(2)

    assert reservations(bucket, 2) == [2.0, 2.25]
    assert bucket.reserve(longest=1) is None  # a lane that will not wait so long defers


def test_local_bucket_without_a_rate_never_waits_unless_held(clock: Clock):
    bucket = LocalBucket("sms", rate=0)
    assert reservations(bucket, 100) == [0] * 100

    bucket.hold(3)

    assert reservations(bucket, 2) == [3.0, 3.0]
    clock.now += 3
    assert reservations(bucket, 1) == [0]


# --- The bucket every worker shares, in Redis ---------------------------------------------------


def test_redis_bucket_lets_one_seconds_worth_go_at_once_then_spaces_them_by_one_over_the_rate(
    redis_client: redis.Redis, own_channel: str
):
    bucket = RedisBucket(own_channel, rate=4, client=redis_client)

    waits = reservations(bucket, 7)

    assert waits[:4] == [0, 0, 0, 0]
    assert waits[4:] == pytest.approx([0.25, 0.5, 0.75], abs=REDIS_SLACK)
    # The bucket is one number in Redis, under the channel's key.
    assert redis_client.exists(ratelimit.KEY.format(channel=own_channel))


def test_redis_bucket_refuses_a_slot_beyond_the_longest_wait_and_takes_nothing(
    redis_client: redis.Redis, own_channel: str
):
    bucket = RedisBucket(own_channel, rate=2, client=redis_client)
    assert reservations(bucket, 4)[2:] == pytest.approx([0.5, 1.0], abs=REDIS_SLACK)

    # The next slot is 1.5 s away.
    assert bucket.reserve(longest=1.2) is None
    assert bucket.reserve(longest=1.2) is None
    # Had the refusals reserved their slots, this one would wait 2.5 s.
    assert bucket.reserve(longest=10) == pytest.approx(1.5, abs=REDIS_SLACK)


def test_two_redis_buckets_of_one_channel_share_their_slots(
    redis_client: redis.Redis, own_channel: str
):
    # Two workers' buckets: one key, so one rate between them.
    one = RedisBucket(own_channel, rate=2, client=redis_client)
    other = RedisBucket(own_channel, rate=2, client=redis_client)

    waits = [bucket.reserve(longest=10) for bucket in (one, other, one, other)]

    assert waits[:2] == [0, 0]
    assert waits[2:] == pytest.approx([0.5, 1.0], abs=REDIS_SLACK)


def test_redis_bucket_held_makes_the_next_reservation_wait_that_long(
    redis_client: redis.Redis, own_channel: str
):
    bucket = RedisBucket(own_channel, rate=4, client=redis_client)

    bucket.hold(2)

    assert reservations(bucket, 2) == pytest.approx([2.0, 2.25], abs=REDIS_SLACK)
    assert bucket.reserve(longest=1) is None


def test_redis_bucket_without_a_rate_is_still_held_by_a_providers_retry_after(
    redis_client: redis.Redis, own_channel: str
):
    bucket = RedisBucket(own_channel, rate=0, client=redis_client)
    assert reservations(bucket, 50) == [0] * 50

    bucket.hold(3)

    assert reservations(bucket, 2) == pytest.approx([3.0, 3.0], abs=REDIS_SLACK)
