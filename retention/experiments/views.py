"""The experiments pages, for managers: the list, starting one (with a confirmation of what
will happen), one experiment's figures, and stopping it."""

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from retention.core.http import DeskRequest
from retention.core.refusals import Refusal
from retention.core.roles import Role, role_required
from retention.experiments import selectors, services
from retention.experiments.assignment import HEX_DIGITS
from retention.experiments.forms import ExperimentForm, StopForm
from retention.models import User


@require_GET
@role_required(Role.MANAGER)
def experiments(request: DeskRequest[User]) -> HttpResponse:
    items = selectors.experiments_list(user=request.user)
    return render(request, "retention/experiments/list.html", {"experiments": items})


@require_http_methods(["GET", "POST"])
@role_required(Role.MANAGER)
def experiment_start(request: DeskRequest[User]) -> HttpResponse:
    """The form; a valid form first shows what will happen, and only its confirm button
    (``confirmed=on``) starts the experiment."""
    if request.method == "GET":
        return render(request, "retention/experiments/form.html", {"form": ExperimentForm()})
    form = ExperimentForm(request.POST)
    if not form.is_valid() or request.POST.get("edit"):
        status = 200 if form.is_valid() else 400
        return render(request, "retention/experiments/form.html", {"form": form}, status=status)
    if request.POST.get("confirmed") != "on":
        context = {"form": form, "slot": form.slot(), "arms": form.arms()}
        return render(request, "retention/experiments/confirm.html", context)
    try:
        experiment = services.experiment_start(
            name=form.cleaned_data["name"],
            slot=form.slot(),
            arms=form.arms(),
            audience=form.cleaned_data["audience"],
            actor=request.user,
        )
    except Refusal as exc:
        form.add_error(None, str(exc))
        return render(request, "retention/experiments/form.html", {"form": form}, status=exc.status)
    if experiment.is_outreach:
        messages.success(
            request, _("The experiment is running: campaign recipients in its slot get an arm.")
        )
    else:
        messages.success(request, _("The experiment is running: cases in its slot get an arm."))
    return redirect("experiment", pk=experiment.pk)


@require_GET
@role_required(Role.MANAGER)
def experiment_detail(request: DeskRequest[User], pk: int) -> HttpResponse:
    experiment = selectors.experiment_get_for_user(user=request.user, pk=pk)
    context = {
        "experiment": experiment,
        "figures": (
            selectors.outreach_figures(experiment=experiment)
            if experiment.is_outreach
            else selectors.experiment_figures(experiment=experiment)
        ),
        "stop_form": StopForm(),
        "hex_digits": HEX_DIGITS,
        "rechurn_days": selectors.RECHURN_DAYS,
    }
    return render(request, "retention/experiments/detail.html", context)


@require_POST
@role_required(Role.MANAGER)
def experiment_stop(request: DeskRequest[User], pk: int) -> HttpResponse:
    experiment = selectors.experiment_get_for_user(user=request.user, pk=pk)
    form = StopForm(request.POST)
    if form.is_valid():
        try:
            services.experiment_stop(
                experiment=experiment, actor=request.user, note=form.cleaned_data["note"]
            )
        except Refusal as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Stopped: no more cases are assigned to it."))
    else:
        messages.error(request, _("The note is too long."))
    return redirect("experiment", pk=pk)
