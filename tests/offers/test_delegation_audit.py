"""A hand-over of approvals lends authority over money: every one is written through
offers.delegation, from the delegation page or the admin, and leaves a history row saying who
created, changed, ended or deleted it, from what to what."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from offers.delegation import (
    delegation_change,
    delegation_create,
    delegation_delete,
    delegation_end,
)
from offers.exceptions import OutsideAuthority
from offers.models import ApprovalDelegation, DelegationChange
from retention.core.refusals import WrongState
from retention.core.roles import Role
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 12:00 in Riga
Action = DelegationChange.Action


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def anna(db):
    return user_with_role(Role.MANAGER, username="anna")


@pytest.fixture
def oskars(db):
    return user_with_role(Role.MANAGER, username="oskars")


def handed_over(anna, oskars, *, starts=NOW, days=3) -> ApprovalDelegation:
    return delegation_create(
        delegator=anna, delegate=oskars, starts_at=starts, ends_at=starts + timedelta(days=days)
    )


def test_handing_over_records_who_to_whom_and_when(anna, oskars):
    delegation = handed_over(anna, oskars)
    (change,) = DelegationChange.objects.all()
    assert (change.delegation, change.action, change.actor, change.at) == (
        delegation,
        Action.CREATED,
        anna,
        NOW,
    )
    assert change.changes["delegator"] == [None, "anna"]
    assert change.changes["ends_at"] == [None, "2026-11-27T10:00:00+00:00"]
    assert "approvals go to — → oskars" in change.text
    assert "ends — → 27.11.2026 12:00" in change.text  # in the reader's time zone


def test_ending_early_records_the_new_end(anna, oskars, clock):
    delegation = handed_over(anna, oskars)
    clock.shift(timedelta(hours=5))
    delegation_end(delegation=delegation, actor=anna)
    ended = DelegationChange.objects.get(action=Action.ENDED)
    assert ended.changes == {"ends_at": ["2026-11-27T10:00:00+00:00", "2026-11-24T15:00:00+00:00"]}
    # Ending it again is refused and records nothing more.
    with pytest.raises(WrongState):
        delegation_end(delegation=delegation, actor=anna)
    assert DelegationChange.objects.count() == 2


def test_one_that_never_started_is_deleted_and_its_history_keeps_it(anna, oskars):
    delegation = handed_over(anna, oskars, starts=NOW + timedelta(days=1))
    delegation_end(delegation=delegation, actor=anna)
    assert not ApprovalDelegation.objects.exists()
    deleted = DelegationChange.objects.get(action=Action.DELETED)
    assert deleted.delegation is None and deleted.actor == anna
    assert deleted.changes["delegate"] == ["oskars", None]


def test_nobody_else_changes_ends_or_deletes_a_hand_over(anna, oskars):
    delegation = handed_over(anna, oskars)
    stranger = user_with_role(Role.MANAGER, username="janis")
    with pytest.raises(OutsideAuthority):
        delegation_end(delegation=delegation, actor=stranger)
    with pytest.raises(OutsideAuthority):
        delegation_change(delegation=delegation, values={"note": "mine now"}, actor=stranger)
    with pytest.raises(OutsideAuthority):
        delegation_delete(delegation=delegation, actor=stranger)
    with pytest.raises(OutsideAuthority):
        delegation_create(
            delegator=anna,
            delegate=stranger,
            starts_at=NOW,
            ends_at=NOW + timedelta(days=1),
            actor=stranger,
        )
    assert DelegationChange.objects.count() == 1
    delegation.refresh_from_db()
    assert delegation.note == ""


def test_a_change_that_changes_nothing_records_nothing(anna, oskars):
    delegation = handed_over(anna, oskars)
    delegation_change(delegation=delegation, values={"note": ""}, actor=anna)
    assert DelegationChange.objects.count() == 1


# --- The admin -----------------------------------------------------------------------------------


def url(view: str, *args: object, model: str = "approvaldelegation") -> str:
    return reverse(f"admin:offers_{model}_{view}", args=args)


def form_data(delegator, delegate, starts: tuple[str, str], ends: tuple[str, str]) -> dict:
    """The admin's form as a person fills it in (dates and times in Riga)."""
    return {
        "delegator": delegator.pk,
        "delegate": delegate.pk,
        "starts_at_0": starts[0],
        "starts_at_1": starts[1],
        "ends_at_0": ends[0],
        "ends_at_1": ends[1],
        "note": "",
    }


def test_an_admin_corrects_a_hand_over_through_the_service(admin_client, admin_user, anna, oskars):
    delegation = handed_over(anna, oskars)
    page = admin_client.get(url("change", delegation.pk))
    assert "Who handed over, changed or ended this, and when" in page.content.decode()
    data = form_data(anna, oskars, ("2026-11-24", "12:00"), ("2026-11-27", "12:00"))
    data["note"] = "Back on Thursday"
    assert admin_client.post(url("change", delegation.pk), data).status_code == 302
    changed = DelegationChange.objects.get(action=Action.CHANGED)
    assert (changed.actor, changed.changes) == (admin_user, {"note": ["", "Back on Thursday"]})

    assert admin_client.post(url("delete", delegation.pk), {"post": "yes"}).status_code == 302
    deleted = DelegationChange.objects.get(action=Action.DELETED)
    assert (deleted.actor, deleted.changes["note"]) == (admin_user, ["Back on Thursday", None])


def test_an_admin_hand_over_is_recorded_as_theirs(admin_client, admin_user, anna, oskars):
    data = form_data(anna, oskars, ("2026-11-25", "09:00"), ("2026-11-27", "18:00"))
    assert admin_client.post(url("add"), data).status_code == 302
    created = DelegationChange.objects.get()
    assert (created.action, created.actor) == (Action.CREATED, admin_user)
    assert created.delegation == ApprovalDelegation.objects.get()


def test_deleting_from_the_list_records_each(admin_client, anna, oskars):
    first = handed_over(anna, oskars)
    second = handed_over(oskars, anna, starts=NOW + timedelta(days=5))
    response = admin_client.post(
        url("changelist"),
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not ApprovalDelegation.objects.exists()
    assert DelegationChange.objects.filter(action=Action.DELETED).count() == 2


def test_the_history_is_read_only(admin_client, anna, oskars):
    handed_over(anna, oskars)
    change = DelegationChange.objects.get()
    page = admin_client.get(url("change", change.pk, model="delegationchange"))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.get(url("add", model="delegationchange")).status_code == 403
    assert admin_client.get(url("delete", change.pk, model="delegationchange")).status_code == 403
