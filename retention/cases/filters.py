from datetime import timedelta

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from retention.cases.selectors import case_workers, overdue_q
from retention.models import CancellationCase, CancellationReason, User
from subscribers.models import Plan, Subscriber
from subscribers.selectors import regions


class QueueFilter(django_filters.FilterSet):
    """The queue's filters. Every one narrows the same index-ordered scan of open cases."""

    reason = django_filters.ModelChoiceFilter(
        label=_("Reason"), queryset=CancellationReason.objects.filter(is_active=True)
    )
    channel = django_filters.ChoiceFilter(
        label=_("Channel"), choices=CancellationCase.Channel.choices
    )
    region = django_filters.ChoiceFilter(
        label=_("Region"), field_name="subscriber__region", choices=()
    )
    segment = django_filters.ChoiceFilter(
        label=_("Segment"), field_name="subscriber__segment", choices=Subscriber.Segment.choices
    )
    plan = django_filters.ModelChoiceFilter(
        label=_("Plan"), field_name="subscriber__plan", queryset=Plan.objects.all()
    )
    owner = django_filters.ChoiceFilter(label=_("Owner"), method="filter_owner", choices=())
    overdue = django_filters.BooleanFilter(
        label=_("Overdue only"), method="filter_overdue", widget=forms.CheckboxInput
    )
    age = django_filters.ChoiceFilter(
        label=_("Age"),
        method="filter_age",
        choices=[("today", _("Opened today")), ("week", _("Up to a week")), ("older", _("Older"))],
    )

    class Meta:
        model = CancellationCase
        fields: list[str] = []

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["region"].extra["choices"] = [(r, r) for r in regions()]
        owners: list[tuple[str, str]] = [("me", str(_("Mine"))), ("none", str(_("Unclaimed")))]
        if user.team_id:
            owners.append(("team", str(_("My team"))))
        owners += [(str(u.pk), u.get_full_name() or u.username) for u in case_workers()]
        self.filters["owner"].extra["choices"] = owners

    def filter_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "me":
            return queryset.filter(owner=self.user)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        if value == "team":
            return queryset.filter(owner__team_id=self.user.team_id)
        if value.isdigit():
            return queryset.filter(owner_id=int(value))
        return queryset

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(overdue_q()) if value else queryset

    def filter_age(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        now = timezone.now()
        start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        if value == "today":
            return queryset.filter(opened_at__gte=start_of_day)
        if value == "week":
            return queryset.filter(opened_at__gte=now - timedelta(days=7))
        if value == "older":
            return queryset.filter(opened_at__lt=now - timedelta(days=7))
        return queryset
