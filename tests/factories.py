"""factory_boy factories shared by every test module."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import factory
from django.contrib.auth.models import Group
from django.utils import timezone

from offers.models import AuthorityTier, OfferTemplate
from retention.models import CancellationCase, CancellationReason, User
from subscribers.models import Equipment, Plan, Subscriber, TimelineEvent, Usage


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@desk.example")
    password = factory.django.Password("correct horse battery staple")


def user_with_role(*roles: str | Group, **fields: Any) -> User:
    """A user (UserFactory: ``fields`` such as username, team, first_name, is_staff) who holds
    every role given: a role (Role.AGENT), another group's name ("Retention lead"), or a group
    (a tier's). With ``username`` of a user who exists, that user, given the roles too."""
    user = UserFactory.create(**fields)
    if roles:
        user.groups.add(
            *(
                role if isinstance(role, Group) else Group.objects.get_or_create(name=role)[0]
                for role in roles
            )
        )
    return user


class PlanFactory(factory.django.DjangoModelFactory[Plan]):
    class Meta:
        model = Plan
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"fibre-{n}")
    name = factory.Sequence(lambda n: f"Fibre {100 + n}")
    kind = Plan.Kind.FLAT
    download_mbps = 300
    upload_mbps = 100
    list_price = Decimal("29.99")
    new_customer_price = Decimal("19.99")
    is_sold = True


class SubscriberFactory(factory.django.DjangoModelFactory[Subscriber]):
    class Meta:
        model = Subscriber

    account_number = factory.Sequence(lambda n: f"{1000000 + n}")
    name = factory.Faker("name")
    phone = factory.Sequence(lambda n: f"+3712{n:07d}")
    email = factory.Sequence(lambda n: f"subscriber{n}@example.lv")
    language = Subscriber.Language.LATVIAN
    time_zone = "Europe/Riga"
    region = "Rīga"
    segment = Subscriber.Segment.RESIDENTIAL
    signup_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=5 * 365))
    plan = factory.SubFactory(PlanFactory)
    monthly_price = Decimal("29.99")
    promo_ends_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=4 * 365))


class UsageFactory(factory.django.DjangoModelFactory[Usage]):
    """A month of a household's usage; ``period`` is the first day of a month."""

    class Meta:
        model = Usage

    subscriber = factory.SubFactory(SubscriberFactory)
    period = date(2026, 1, 1)
    gb_down = Decimal("120.00")
    gb_up = Decimal("15.00")
    hours_online = Decimal("150.0")
    peak_devices = 3
    people = 1


class EquipmentFactory(factory.django.DjangoModelFactory[Equipment]):
    class Meta:
        model = Equipment

    subscriber = factory.SubFactory(SubscriberFactory)
    kind = Equipment.Kind.ROUTER
    model_name = "Nokia G-2425G-A"
    serial = factory.Sequence(lambda n: f"SN{n:08d}")


class TimelineEventFactory(factory.django.DjangoModelFactory[TimelineEvent]):
    class Meta:
        model = TimelineEvent

    subscriber = factory.SubFactory(SubscriberFactory)
    kind = TimelineEvent.Kind.PAYMENT
    occurred_at = factory.LazyFunction(timezone.now)
    source = "billing"
    summary = "Payment received €29.99"


class CaseFactory(factory.django.DjangoModelFactory[CancellationCase]):
    """A case as the intake service would have opened it (use case_open to test intake)."""

    class Meta:
        model = CancellationCase

    subscriber = factory.SubFactory(SubscriberFactory)
    channel = CancellationCase.Channel.WEB
    # get_or_create: transactional tests flush the rows the data migrations made.
    reason = factory.LazyFunction(
        lambda: CancellationReason.objects.get_or_create(
            code="price", defaults={"category": "price", "name_en": "Price"}
        )[0]
    )
    process_by = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=14))
    first_contact_due = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=4))
    priority = 50


def authority_tier(
    group_name: str, rank: int, monthly: str, total: str, cumulative: str
) -> AuthorityTier:
    """A group's tier; get_or_create because the catalogue migration made the defaults and
    transactional tests flush them."""
    group = Group.objects.get_or_create(name=group_name)[0]
    found, _ = AuthorityTier.objects.update_or_create(
        group=group,
        defaults={
            "name": group_name,
            "rank": rank,
            "max_monthly": Decimal(monthly),
            "max_total": Decimal(total),
            "max_cumulative": Decimal(cumulative),
        },
    )
    return found


def offer_template(code: str, kind: str, **terms) -> OfferTemplate:
    found, _ = OfferTemplate.objects.update_or_create(
        code=code, defaults={"kind": kind, "name_en": code, "is_active": True, **terms}
    )
    return found
