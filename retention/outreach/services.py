"""Every write to a campaign: drafts, launching, pausing, resuming and finishing.

Each locks the campaign row, checks its state, changes it and writes its history row (who,
from what to what) in one transaction; a refusal changes nothing. Launching and resuming only
ask for the work (``OUTREACH_WORK``, by name, after commit): the worker creates the messages
(retention.outreach.audience) and sends them (retention.outreach.sending).
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.pricing import Terms, terms_validate
from retention.core import broker
from retention.core.refusals import InvalidInput, WrongState
from retention.core.roles import Role, require_role
from retention.models import CampaignHistory, OutreachCampaign, OutreachMessage, User
from retention.outreach.rendering import LANGUAGES, body_check
from subscribers.models import ContactChannel

Campaign = OutreachCampaign
State = OutreachCampaign.State
Action = CampaignHistory.Action
# The task that fans out and sends a campaign (retention.outreach.tasks), asked for by name:
# the tasks module imports this one.
OUTREACH_WORK = "retention.tasks.outreach_work"

# What a manager sets on a draft; a launched campaign keeps what it was launched with.
DRAFT_FIELDS = (
    "name",
    "template",
    "channel",
    "min_tenure_months",
    "min_penalty_percent",
    "promo_ended_days",
    "min_risk",
    "segment",
    "region",
    "plan",
    "not_contacted_days",
    "min_saving",
    "standing",
    "subject",
    "body_lv",
    "body_ru",
    "body_en",
)


def _draft_check(values: dict[str, Any]) -> None:
    unknown = set(values) - set(DRAFT_FIELDS)
    if unknown:
        raise ValueError(f"not draft fields: {sorted(unknown)}")
    if values.get("channel", ContactChannel.EMAIL) not in (
        ContactChannel.EMAIL,
        ContactChannel.SMS,
    ):
        raise InvalidInput(_("A campaign goes out by e-mail or SMS."))
    for language in LANGUAGES:
        body_check(values.get(f"body_{language}", ""))


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def _record(
    campaign: Campaign,
    actor: User | None,
    action: str,
    *,
    from_status: str,
    at: datetime | None = None,
) -> CampaignHistory:
    """The history row of a change just made to ``campaign`` (its state is the new one)."""
    return CampaignHistory.objects.create(
        campaign=campaign,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=campaign.state,
        at=at or timezone.now(),
    )


def _enqueue_after_commit(campaign_id: int) -> None:
    transaction.on_commit(lambda: broker.enqueue(OUTREACH_WORK, campaign_id))


# --- Drafts -------------------------------------------------------------------------------------


def campaign_create(*, actor: User, values: dict[str, Any]) -> Campaign:
    """A new draft; nothing is sent until it is launched."""
    require_role(actor, Role.MANAGER)
    _draft_check(values)
    with transaction.atomic():
        campaign = Campaign.objects.create(created_by=actor, state=State.DRAFT, **values)
        _record(campaign, actor, Action.CREATED, from_status="", at=campaign.created_at)
    return campaign


def campaign_update(*, campaign: Campaign, actor: User, values: dict[str, Any]) -> Campaign:
    """Change a draft. Once launched, the criteria and messages are what subscribers got.
    Saving what is there already changes nothing and writes no history."""
    require_role(actor, Role.MANAGER)
    _draft_check(values)
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state != State.DRAFT:
            raise WrongState(_("Only a draft campaign can be changed."))
        changed = [name for name, value in values.items() if getattr(campaign, name) != value]
        if not changed:
            return campaign
        for name in changed:
            setattr(campaign, name, values[name])
        campaign.save(update_fields=changed)
        _record(campaign, actor, Action.EDITED, from_status=campaign.state)
    return campaign


# --- Running ------------------------------------------------------------------------------------


def campaign_launch(*, campaign: Campaign, actor: User) -> Campaign:
    """Start the campaign: its messages are created by the worker (set-based) and sent as the
    contact policy allows. The request only changes the state and asks for the work."""
    require_role(actor, Role.MANAGER)
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state != State.DRAFT:
            raise WrongState(_("Only a draft campaign can be launched."))
        # What is launched is the locked row: an edit that got in first is checked too.
        terms_validate(Terms.of(campaign.template))  # InvalidTerms is an InvalidInput
        for language in LANGUAGES:
            body_check(getattr(campaign, f"body_{language}"))
        now = timezone.now()
        campaign.state, campaign.launched_at = State.RUNNING, now
        campaign.save(update_fields=["state", "launched_at"])
        _record(campaign, actor, Action.LAUNCHED, from_status=State.DRAFT, at=now)
        _enqueue_after_commit(campaign.pk)
    return campaign


def campaign_pause(*, campaign: Campaign, actor: User) -> Campaign:
    """Nothing more is sent until it is resumed; messages being sent finish."""
    require_role(actor, Role.MANAGER)
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state != State.RUNNING:
            raise WrongState(_("Only a running campaign can be paused."))
        campaign.state = State.PAUSED
        campaign.save(update_fields=["state"])
        _record(campaign, actor, Action.PAUSED, from_status=State.RUNNING)
    return campaign


def campaign_resume(*, campaign: Campaign, actor: User) -> Campaign:
    require_role(actor, Role.MANAGER)
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state != State.PAUSED:
            raise WrongState(_("Only a paused campaign can be resumed."))
        campaign.state = State.RUNNING
        campaign.save(update_fields=["state"])
        _record(campaign, actor, Action.RESUMED, from_status=State.PAUSED)
        _enqueue_after_commit(campaign.pk)
    return campaign


def campaigns_finish(*, now: datetime | None = None) -> int:
    """Running campaigns (not standing ones) with nothing left to send are finished, by the
    desk itself: their history rows have no actor. Returns how many."""
    MState = OutreachMessage.State
    left = OutreachMessage.objects.filter(
        state__in=[MState.PENDING, MState.DEFERRED, MState.SENDING]
    ).values("campaign_id")
    with transaction.atomic():
        # Locked, and the state checked again under the lock (a pause that got in first keeps
        # its campaign paused); in id order, so two ticks finishing together do not deadlock.
        done = list(
            Campaign.objects.select_for_update()
            .filter(state=State.RUNNING, standing=False, fanned_out_at__isnull=False)
            .exclude(Q(pk__in=left))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not done:
            return 0
        Campaign.objects.filter(pk__in=done).update(state=State.FINISHED)
        now = now or timezone.now()
        CampaignHistory.objects.bulk_create(
            CampaignHistory(
                campaign_id=pk,
                actor=None,
                action=Action.FINISHED,
                from_status=State.RUNNING,
                to_status=State.FINISHED,
                at=now,
            )
            for pk in done
        )
    return len(done)
