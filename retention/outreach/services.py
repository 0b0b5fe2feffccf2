"""Every write to a campaign: drafts, launching, pausing, resuming and finishing.

Each locks the campaign row, checks its state, changes it and writes its history row (who,
from what to what) in one transaction; a refusal changes nothing. Launching and resuming only
ask for the work (``OUTREACH_WORK``, by name, after commit): the worker creates the messages
(retention.outreach.audience) and sends them (retention.outreach.sending).
"""

import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.pricing import Terms, terms_validate
from retention.core import broker
from retention.core.messaging import send_to_subscriber
from retention.core.refusals import InvalidInput, WrongState
from retention.core.roles import Role, require_role
from retention.models import CampaignHistory, OutreachCampaign, OutreachMessage, User
from retention.outreach.audience import campaign_matching
from retention.outreach.links import preview_link, stop_preview_link
from retention.outreach.rendering import LANGUAGES, body_check, message_render, with_stop
from subscribers import phrases
from subscribers.models import ContactChannel, Subscriber

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
    "rate_per_minute",
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
    phrase: dict[str, Any] | None = None,
) -> CampaignHistory:
    """The history row of a change just made to ``campaign`` (its state is the new one)."""
    return CampaignHistory.objects.create(
        campaign=campaign,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=campaign.state,
        at=at or timezone.now(),
        code=phrase["code"] if phrase else "",
        params=phrase["params"] if phrase else {},
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


def _launch_check(campaign: Campaign) -> None:
    # What is launched is the locked row: an edit that got in first is checked too.
    terms_validate(Terms.of(campaign.template))  # InvalidTerms is an InvalidInput
    for language in LANGUAGES:
        body_check(getattr(campaign, f"body_{language}"))


def campaign_launch(
    *,
    campaign: Campaign,
    actor: User,
    starts_at: datetime | None = None,
    now: datetime | None = None,
) -> Campaign:
    """Start the campaign now, or schedule it for ``starts_at`` (aware, in the future): its
    messages are created by the worker (set-based) and sent as the contact policy allows. The
    request only changes the state and asks for the work; a scheduled campaign is started by
    the outreach tick (``campaigns_start_due``)."""
    require_role(actor, Role.MANAGER)
    now = now or timezone.now()
    if starts_at is not None and (timezone.is_naive(starts_at) or starts_at <= now):
        raise InvalidInput(_("The start time must be in the future."))
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state != State.DRAFT:
            raise WrongState(_("Only a draft campaign can be launched."))
        _launch_check(campaign)
        if starts_at is not None:
            campaign.state, campaign.starts_at = State.SCHEDULED, starts_at
            campaign.save(update_fields=["state", "starts_at"])
            said = phrases.phrase("outreach.scheduled", when=starts_at)
            _record(campaign, actor, Action.SCHEDULED, from_status=State.DRAFT, at=now, phrase=said)
            return campaign
        campaign.state, campaign.launched_at = State.RUNNING, now
        campaign.save(update_fields=["state", "launched_at"])
        _record(campaign, actor, Action.LAUNCHED, from_status=State.DRAFT, at=now)
        _enqueue_after_commit(campaign.pk)
    return campaign


def campaign_schedule_cancel(*, campaign: Campaign, actor: User) -> Campaign:
    """Back to a draft before it starts: nothing was created or sent."""
    require_role(actor, Role.MANAGER)
    with transaction.atomic():
        campaign = _locked(campaign)
        if campaign.state != State.SCHEDULED:
            raise WrongState(_("Only a scheduled campaign that has not started can be cancelled."))
        campaign.state, campaign.starts_at = State.DRAFT, None
        campaign.save(update_fields=["state", "starts_at"])
        _record(campaign, actor, Action.UNSCHEDULED, from_status=State.SCHEDULED)
    return campaign


def campaigns_start_due(*, now: datetime | None = None) -> list[int]:
    """The tick: scheduled campaigns whose start time has come begin running, by the desk
    itself (history rows without an actor), each once. Returns their ids.

    The rows are locked and their state checked under the lock: two ticks at once (or a
    manager cancelling the schedule at that moment) cannot both act on a campaign. The second
    tick's ``FOR UPDATE`` waits for the first and then finds the row no longer scheduled.
    The work is asked for by the tick that calls this, with every running campaign's that has
    some (``campaigns_with_work``: these have no messages yet)."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Campaign.objects.select_for_update()
            .filter(state=State.SCHEDULED, starts_at__lte=now)
            .order_by("pk")
        )
        for campaign in due:
            campaign.state, campaign.launched_at = State.RUNNING, now
            campaign.save(update_fields=["state", "launched_at"])
            _record(campaign, None, Action.STARTED, from_status=State.SCHEDULED, at=now)
    return [c.pk for c in due]


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


# --- A test to oneself --------------------------------------------------------------------------


def campaign_test_send(*, campaign: Campaign, actor: User, language: str) -> CampaignHistory:
    """Send the campaign's message to the manager themselves, by the campaign's channel (an
    SMS campaign to their mobile number, an e-mail campaign to their e-mail address), in
    ``language``, as a subscriber would get it: a sample subscriber's figures (the first who
    matches, else any active subscriber) under the manager's own name, with the channel's stop
    line. An e-mail is marked as a test in its subject; an SMS has none, and is sent as it
    would arrive. It makes no outbox row and no timeline event, so it counts in none of the
    campaign's figures and in nobody's contact cap. Recorded in the campaign's history, with
    where it went."""
    require_role(actor, Role.MANAGER)
    if language not in LANGUAGES:
        raise InvalidInput(_("Choose English, Latvian or Russian."))
    sms = campaign.channel == ContactChannel.SMS
    if sms and not actor.phone:
        raise InvalidInput(_("Your account has no mobile number: ask an administrator to add one."))
    if not sms and not actor.email:
        raise InvalidInput(
            _("Your account has no e-mail address: ask an administrator to add one.")
        )
    if campaign.is_notice:
        raise WrongState(_("The best tariff notice is the desk's own: it has no test send."))
    matching = campaign_matching(campaign).select_related("plan").order_by("pk")
    sample = matching.first() or (
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
        .select_related("plan")
        .order_by("pk")
        .first()
    )
    if sample is None:
        raise InvalidInput(_("There is no subscriber whose figures a test could show."))
    sample.name = actor.get_full_name() or actor.username
    sample.language = language
    subject, body, _lang = message_render(campaign, sample, link=preview_link())
    channel = ContactChannel.SMS if sms else ContactChannel.EMAIL
    body = with_stop(body, channel=channel, url=stop_preview_link(), language=language)
    to = actor.phone if sms else actor.email
    now = timezone.now()
    send_to_subscriber(
        channel=channel,
        key=f"outreach-test-{campaign.pk}-{uuid.uuid4().hex}",
        to=to,
        subject="" if sms else _("[Test] %(subject)s") % {"subject": subject},
        body=body,
    )
    said = phrases.phrase("outreach.test_sent", to=to, language=language)
    return _record(
        campaign, actor, Action.TEST_SENT, from_status=campaign.state, at=now, phrase=said
    )
