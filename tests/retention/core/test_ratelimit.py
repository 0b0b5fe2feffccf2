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
from retention.core.ratelimit import (
    REDIS_LOOK_AGAIN,
    Bucket,
    ChannelBucket,
    LocalBucket,
    RedisBucket,
    rate_charge,
)

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


# --- The channel's bucket: the shared one, or the process's own while Redis does not answer --


class TimingOut:
    """A shared bucket whose Redis times out until it is ``up``; counts what is asked of it."""

    def __init__(self) -> None:
        self.up = False
        self.asked = 0

    def reserve(self, *, longest: float) -> float | None:
        self.asked += 1
        if not self.up:
            raise redis.TimeoutError("Timeout connecting to server")
        return 0.125  # Redis's answer, told apart from the process's own

    def hold(self, seconds: float) -> None:
        self.asked += 1
        if not self.up:
            raise redis.TimeoutError("Timeout connecting to server")


@pytest.fixture
def timing_out(monkeypatch: pytest.MonkeyPatch, settings) -> Iterator[TimingOut]:
    settings.SEND_RATES = {"email": 0, "sms": 5}
    shared = TimingOut()
    monkeypatch.setattr(ratelimit, "bucket_for", lambda channel: shared)
    ratelimit.buckets_reset()
    yield shared
    ratelimit.buckets_reset()


def test_while_redis_times_out_the_rate_is_kept_in_the_process_and_redis_asked_every_half_minute(
    clock: Clock, timing_out: TimingOut
):
    bucket = ChannelBucket("sms")
    waits = [bucket.reserve(longest=60) for _ in range(7)]

    # Only the first reservation waited for Redis's timeout; the rate held all the same.
    assert timing_out.asked == 1
    assert waits == pytest.approx([0, 0, 0, 0, 0, 0.2, 0.4])
    assert ChannelBucket("sms").reserve(longest=60) == pytest.approx(0.6)  # the next chunk
    clock.now += REDIS_LOOK_AGAIN - 1
    assert ChannelBucket("sms").reserve(longest=60) == 0  # filled again meanwhile
    assert timing_out.asked == 1

    clock.now += 1
    timing_out.up = True
    again = ChannelBucket("sms")
    assert [again.reserve(longest=60), again.reserve(longest=60)] == [0.125, 0.125]
    assert timing_out.asked == 3


def test_a_providers_retry_after_while_redis_times_out_holds_the_process(
    clock: Clock, timing_out: TimingOut
):
    bucket = ChannelBucket("sms")

    bucket.hold(3)

    assert timing_out.asked == 1
    assert bucket.reserve(longest=60) == pytest.approx(3.0)
    assert timing_out.asked == 1  # not asked again within the half minute


def test_a_message_sent_on_its_own_takes_a_slot_at_once_and_the_campaigns_move_back(
    redis_client: redis.Redis, own_channel: str, settings
):
    settings.SEND_RATES = {own_channel: 2}
    campaign = RedisBucket(own_channel, rate=2, client=redis_client)

    for _ in range(3):
        rate_charge(own_channel)  # none of them waits: they would have been at 0, 0 and 0.5 s

    assert campaign.reserve(longest=10) == pytest.approx(1.0, abs=REDIS_SLACK)


def test_without_a_rate_a_message_sent_on_its_own_asks_nothing_of_redis(
    redis_client: redis.Redis, own_channel: str, settings
):
    settings.SEND_RATES = {own_channel: 0}

    rate_charge(own_channel)

    assert not redis_client.exists(ratelimit.KEY.format(channel=own_channel))
