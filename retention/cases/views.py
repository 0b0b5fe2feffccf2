from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from retention.cases import opening
from retention.cases import services as cases
from retention.cases.forms import (
    CaseOpenForm,
    ReassignForm,
)
from retention.cases.opening import CaseAlreadyOpen, Intake
from retention.cases.selectors import (
    case_get_for_user,
    cases_owned,
)
from retention.cases.tables import CasesTable
from retention.core.forms import form_errors
from retention.core.http import DeskRequest
from retention.core.refusals import NotAllowed, WrongState
from retention.core.roles import WORKER_ROLES, Role, role_required
from retention.models import User
from retention.notifications.selectors import notifications_unread
from subscribers.selectors import (
    subscriber_get,
)


@require_GET
@role_required(*WORKER_ROLES)
def my_cases(request: DeskRequest[User]) -> HttpResponse:
    cases = cases_owned(user=request.user)
    table = CasesTable(cases)
    RequestConfig(request, paginate=False).configure(table)  # sorted in memory: no query
    context = {
        "cases": cases,
        "table": table,
        "notifications": notifications_unread(user=request.user),
    }
    return render(request, "retention/my_cases.html", context)


@require_POST
@role_required(*WORKER_ROLES)
def claim_next(request: DeskRequest[User]) -> HttpResponse:
    case = cases.case_claim_next(actor=request.user)
    if case is None:
        messages.info(request, _("There is no unclaimed case in the queue."))
        return redirect("queue")
    messages.success(request, _("Case #%(id)s is yours.") % {"id": case.pk})
    return redirect("case", pk=case.pk)


@require_POST
@role_required(*WORKER_ROLES)
def case_claim(request: DeskRequest[User], pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, pk=pk)
    try:
        cases.case_claim(case=case, actor=request.user)
    except (NotAllowed, WrongState) as exc:
        messages.error(request, str(exc))
        return redirect("queue")
    return redirect("case", pk=pk)


@require_POST
@role_required(*WORKER_ROLES)
def case_release(request: DeskRequest[User], pk: int) -> HttpResponse:
    case = case_get_for_user(user=request.user, pk=pk)
    try:
        cases.case_release(case=case, actor=request.user)
    except (NotAllowed, WrongState) as exc:
        messages.error(request, str(exc))
        return redirect("case", pk=pk)
    messages.success(request, _("Case #%(id)s is back in the queue.") % {"id": pk})
    return redirect("queue")


@require_POST
@role_required(Role.MANAGER, Role.ADMIN)
def reassign(request: DeskRequest[User]) -> HttpResponse:
    form = ReassignForm(request.POST)
    if not form.is_valid():
        messages.error(
            request,
            _("Choose cases, a person and a reason: %(errors)s") % {"errors": form_errors(form)},
        )
        return redirect(_safe_next(request, "queue"))
    try:
        moved = cases.cases_reassign(
            case_ids=[c.pk for c in form.cleaned_data["select"]],
            to_user=form.cleaned_data["to_user"],
            actor=request.user,
            reason=form.cleaned_data["reason"],
        )
    except (NotAllowed, WrongState) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            ngettext("%(n)s case reassigned.", "%(n)s cases reassigned.", len(moved))
            % {"n": len(moved)},
        )
    return redirect(_safe_next(request, "queue"))


def _safe_next(request: DeskRequest[User], default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse(default)


@require_http_methods(["GET", "POST"])
@role_required(*WORKER_ROLES)
def case_open(request: DeskRequest[User], subscriber_pk: int) -> HttpResponse:
    subscriber = subscriber_get(pk=subscriber_pk)
    form = CaseOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = opening.case_open(
                subscriber=subscriber,
                intake=Intake(
                    channel=data["channel"],
                    reason=data["reason"],
                    reason_detail=data["reason_detail"],
                    competitor=data["competitor"],
                    requested_end_date=data["requested_end_date"],
                ),
                actor=request.user,
            )
        except CaseAlreadyOpen as exc:
            messages.info(request, str(exc))
            return redirect("case", pk=exc.case.pk)
        except WrongState as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("case", pk=case.pk)
    return render(request, "retention/case_open.html", {"form": form, "subscriber": subscriber})
