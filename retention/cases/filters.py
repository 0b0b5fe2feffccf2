from datetime import timedelta

import django_filters
from django import forms
from django.core.validators import EMPTY_VALUES
from django.db.models import Q, QuerySet
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

    def __init__(self, *args, user: User, workers: list[User] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filters["region"].extra["choices"] = [(r, r) for r in regions()]
        owners: list[tuple[str, str]] = [("me", str(_("Mine"))), ("none", str(_("Unclaimed")))]
        if user.team_id:
            owners.append(("team", str(_("My team"))))
        if workers is None:
            workers = list(case_workers())
        owners += [(str(u.pk), u.get_full_name() or u.username) for u in workers]
        self.filters["owner"].extra["choices"] = owners

    def as_q(self) -> Q:
        """The valid filters as one condition, for counting several sets of filters in one
        query (the saved views' counts). The queryset the page lists applies the same."""
        q = Q()
        for name, value in self.form.cleaned_data.items():
            if value in EMPTY_VALUES:
                continue
            found = self.filters[name]
            if found.method:
                q &= getattr(self, f"q_{name}")(value)
            else:
                q &= Q(**{f"{found.field_name}__{found.lookup_expr}": value})
        return q

    def q_owner(self, value: str) -> Q:
        if value == "me":
            return Q(owner=self.user)
        if value == "none":
            return Q(owner__isnull=True)
        if value == "team":
            return Q(owner__team_id=self.user.team_id)
        if value.isdigit():
            return Q(owner_id=int(value))
        return Q()

    def q_overdue(self, value: bool) -> Q:
        return overdue_q() if value else Q()

    def q_age(self, value: str) -> Q:
        now = timezone.now()
        start_of_day = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        if value == "today":
            return Q(opened_at__gte=start_of_day)
        if value == "week":
            return Q(opened_at__gte=now - timedelta(days=7))
        if value == "older":
            return Q(opened_at__lt=now - timedelta(days=7))
        return Q()

    def filter_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(self.q_owner(value))

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(self.q_overdue(value))

    def filter_age(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(self.q_age(value))
