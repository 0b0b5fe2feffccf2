"""The hand-counted desk of March 2026 that the dashboard's tests check figures against.

March 2026, desk time Europe/Riga (UTC+2). Seven cases close in March:

    #  agent  channel   reason   closed (Riga)  outcome    first contact         offer accepted
    1  ann A  phone     price    2 Mar 15:00    saved      10 min, in time       discount, 1 Sep
    2  ann A  web       quality  2 Mar 16:00    cancelled  2 h, late, 1 refused
    3  bob A  port-out  price    3 Mar 10:00    cancelled  30 min, called twice
    4  nobody e-mail    price    3 Mar 00:30    cancelled  never; at the deadline
    5  cid B  phone     quality  16 Mar 12:00   saved      5 h, late, 2 refused  plan change
    7  cid B  web       price    16 Mar 13:00   saved      27 h, late            discount, 1 May
    8  bob A  shop      price    16 Mar 14:00   withdrawn  5 min, in time

Offers: 1 costs €60 and leaves €20.99 a month; 5 costs €60 (€24.99); 7 costs €30 (€15.00).
Every subscriber paid €29.99 a month before: that is the revenue each save retained.

Case 4 closes at 22:30 UTC on 2 March, which is already 3 March in Riga. Later, case 1's
subscriber asks again on 20 April (within 90 days of the save) and case 7's on 15 June (after
90 days, but within 60 days after the discount ended on 1 May); both are cancelled.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from offers.models import CounterOffer, OfferKind
from retention.core.roles import Role
from retention.models import (
    CancellationCase,
    CancellationReason,
    CaseHistory,
    ContactAttempt,
    Team,
)
from subscribers.models import Subscriber
from tests.factories import (
    CaseFactory,
    PlanFactory,
    SubscriberFactory,
    offer_template,
    user_with_role,
)

Status = CancellationCase.Status


def riga(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Riga wall-clock time in March to June 2026 as UTC (UTC+2 until 29 March, then +3)."""
    offset = 2 if (month, day) < (3, 29) else 3
    return datetime(2026, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=offset)


def closed_case(
    *,
    subscriber,
    owner,
    channel,
    reason,
    opened,
    contacted,
    closed,
    status,
    auto=False,
    outbound=1,
    refused=0,
    offer=None,
):
    case = CaseFactory.create(
        subscriber=subscriber,
        owner=owner,
        channel=channel,
        reason=reason,
        opened_at=opened,
        first_contact_due=opened + timedelta(hours=1),
        first_contacted_at=contacted,
        closed_at=closed,
        status=status,
        auto_processed=auto,
    )
    for n in range(outbound if contacted else 0):
        ContactAttempt.objects.create(
            case=case,
            subscriber=subscriber,
            channel="phone",
            direction=ContactAttempt.Direction.OUTBOUND,
            outcome=ContactAttempt.Outcome.REACHED,
            at=contacted + timedelta(minutes=n),
        )
    ContactAttempt.objects.create(  # inbound contacts are not the desk calling
        case=case,
        subscriber=subscriber,
        channel="phone",
        direction=ContactAttempt.Direction.INBOUND,
        outcome=ContactAttempt.Outcome.REACHED,
        at=opened,
    )
    for _ in range(refused):
        CaseHistory.objects.create(case=case, action=CaseHistory.Action.CONTACT_REFUSED, at=opened)
    if offer:
        kind, cost, price, runs_until = offer
        CounterOffer.objects.create(
            subscriber=subscriber,
            case=case,
            template=offer_template(f"t-{kind}", kind),
            status=CounterOffer.Status.ACCEPTED,
            kind=kind,
            monthly_concession=Decimal(0),
            counted_months=0,
            one_time_concession=Decimal(0),
            total_cost=Decimal(cost),
            new_monthly_price=Decimal(price),
            price_before=subscriber.monthly_price,
            proposer=owner,
            auto_approved=True,
            decided_at=closed - timedelta(hours=1),
            valid_until=closed + timedelta(days=7),
            runs_until=runs_until,
        )
    # A later offer that was declined is not a concession.
    return case


@pytest.fixture
def desk():
    team_a, team_b = Team.objects.create(name="A"), Team.objects.create(name="B")
    ann = user_with_role(Role.AGENT, username="ann", team=team_a)
    bob = user_with_role(Role.AGENT, username="bob", team=team_a)
    cid = user_with_role(Role.AGENT, username="cid", team=team_b)
    price = CancellationReason.objects.get_or_create(
        code="price", defaults={"category": "price", "name_en": "Price"}
    )[0]
    quality = CancellationReason.objects.get_or_create(
        code="quality", defaults={"category": "quality", "name_en": "Quality"}
    )[0]
    plan = PlanFactory.create()
    Seg = Subscriber.Segment
    subs = {
        n: SubscriberFactory.create(plan=plan, segment=segment, region=region)
        for n, segment, region in [
            (1, Seg.RESIDENTIAL, "Rīga"),
            (2, Seg.SMALL_BUSINESS, "Kurzeme"),
            (3, Seg.RESIDENTIAL, "Rīga"),
            (4, Seg.CORPORATE, "Latgale"),
            (5, Seg.RESIDENTIAL, "Rīga"),
            (7, Seg.RESIDENTIAL, "Kurzeme"),
            (8, Seg.RESIDENTIAL, "Rīga"),
        ]
    }
    C = CancellationCase.Channel
    cases = {
        1: closed_case(
            subscriber=subs[1],
            owner=ann,
            channel=C.PHONE,
            reason=price,
            opened=riga(3, 2, 8),
            contacted=riga(3, 2, 8, 10),
            closed=riga(3, 2, 15),
            status=Status.SAVED,
            offer=(OfferKind.PERCENT_DISCOUNT, "60.00", "20.99", date(2026, 9, 1)),
        ),
        2: closed_case(
            subscriber=subs[2],
            owner=ann,
            channel=C.WEB,
            reason=quality,
            opened=riga(3, 2, 9),
            contacted=riga(3, 2, 11),
            closed=riga(3, 2, 16),
            status=Status.CANCELLED,
            outbound=2,
            refused=1,
        ),
        3: closed_case(
            subscriber=subs[3],
            owner=bob,
            channel=C.PORT_OUT,
            reason=price,
            opened=riga(3, 2, 10),
            contacted=riga(3, 2, 10, 30),
            closed=riga(3, 3, 10),
            status=Status.CANCELLED,
            outbound=2,
        ),
        4: closed_case(
            subscriber=subs[4],
            owner=None,
            channel=C.EMAIL,
            reason=price,
            opened=riga(3, 1, 7),
            contacted=None,
            closed=riga(3, 3, 0, 30),
            status=Status.CANCELLED,
            auto=True,
        ),
        5: closed_case(
            subscriber=subs[5],
            owner=cid,
            channel=C.PHONE,
            reason=quality,
            opened=riga(3, 16, 6),
            contacted=riga(3, 16, 11),
            closed=riga(3, 16, 12),
            status=Status.SAVED,
            refused=2,
            offer=(OfferKind.PLAN_CHANGE, "60.00", "24.99", None),
        ),
        7: closed_case(
            subscriber=subs[7],
            owner=cid,
            channel=C.WEB,
            reason=price,
            opened=riga(3, 14, 9),
            contacted=riga(3, 15, 12),
            closed=riga(3, 16, 13),
            status=Status.SAVED,
            offer=(OfferKind.PERCENT_DISCOUNT, "30.00", "15.00", date(2026, 5, 1)),
        ),
        8: closed_case(
            subscriber=subs[8],
            owner=bob,
            channel=C.SHOP,
            reason=price,
            opened=riga(3, 16, 13, 50),
            contacted=riga(3, 16, 13, 55),
            closed=riga(3, 16, 14),
            status=Status.WITHDRAWN,
        ),
    }
    # An open case is not counted anywhere.
    CaseFactory.create(subscriber=SubscriberFactory.create(plan=plan), owner=ann, reason=price)
    return {
        "cases": cases,
        "subs": subs,
        "ann": ann,
        "bob": bob,
        "cid": cid,
        "teams": (team_a, team_b),
        "price": price,
        "quality": quality,
        "plan": plan,
    }
