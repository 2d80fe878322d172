"""Her coach tailors her program: doses, exercises, her start date, her program."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from programs import tailoring
from programs.forms import DoseForm, MoveProgramForm, StartDateForm
from programs.models import Prescription, Stage
from programs.views.coaching import client_enrolment, coach_required, needs_fixing


def _page(request, enrolment, bound: dict | None = None, problem: str = ""):
    """The tailoring page; `bound` holds a submitted form that failed, by its place on the page
    ("start", "program", "change-<pk>", "add-<stage pk>"), so it shows what was entered and its
    errors, and `problem` says at the top why nothing was saved."""
    bound = bound or {}
    if bound and not problem:
        problem = "Nothing was saved: please check the form below."
    now = timezone.now()
    facts = enrolment.facts()
    by_pk = tailoring.her_prescriptions(enrolment)
    choices = DoseForm.exercise_choices()

    def form(key, auto_id, prescription=None):
        return bound.get(key) or DoseForm(
            prescription=prescription, exercise_choices=choices, auto_id=auto_id
        )

    stages = [
        (
            stage,
            [(p, form(f"change-{p.pk}", f"p{p.pk}_%s", p)) for p in prescriptions],
            form(f"add-{stage.pk}", f"s{stage.pk}_%s"),
        )
        for stage, prescriptions in tailoring.stage_lists(enrolment, facts, now, by_pk)
    ]
    earliest, latest = tailoring.start_date_range(facts, now)
    context = {
        "enrolment": enrolment,
        "stages": stages,
        "start_form": bound.get("start")
        or StartDateForm(initial={"start_date": enrolment.start_date}),
        "earliest": earliest,
        "latest": latest,
        "program_form": bound.get("program") or MoveProgramForm(enrolment=enrolment),
        "history": enrolment.tailorings.select_related(
            "made_by", "stage", "replaces__exercise", "prescription__exercise"
        ).order_by("-made_at", "-pk"),
    }
    context["problem"] = problem
    return render(request, "coach/tailor.html", context, status=400 if problem else 200)


def her_program(view):
    """A tailoring view, for her coach or staff (`coach_required`), given her enrolment: 404 for
    anyone else's. One whose zone or date the schedule cannot read goes back to the dashboard,
    saying what needs fixing, before anything reads or changes her program."""

    @coach_required
    @wraps(view)
    def wrapper(request, pk, **kwargs):
        enrolment = client_enrolment(request, pk)
        if broken := needs_fixing(request, enrolment):
            return broken
        return view(request, enrolment, **kwargs)

    return wrapper


@her_program
def tailor(request, enrolment):
    """What she is asked to do, stage by stage, with a form for each change her coach can make."""
    return _page(request, enrolment)


def _own_prescription(enrolment, prescription_pk: int) -> Prescription:
    """A prescription of her program or tailored for her; 404 for anyone else's."""
    prescription = tailoring.her_prescriptions(enrolment).get(prescription_pk)
    if prescription is None:
        raise Http404("No such prescription of hers.")
    return prescription


def _done(request, enrolment, text: str):
    messages.success(request, text)
    return redirect("tailor", pk=enrolment.pk)


def _refused(request, enrolment, key: str, form, error: ValidationError):
    form.add_error(None, error)
    return _page(request, enrolment, {key: form}, f"Nothing was saved: {error.messages[0]}")


@her_program
@require_POST
def change_prescription(request, enrolment, prescription_pk):
    """A new dose for one of her exercises, or another exercise in its place."""
    old = _own_prescription(enrolment, prescription_pk)
    key = f"change-{old.pk}"
    form = DoseForm(request.POST, prescription=old, auto_id=f"p{old.pk}_%s")
    if not form.is_valid():
        return _page(request, enrolment, {key: form})
    try:
        change = tailoring.change(enrolment, old, form.dose(), request.user, timezone.now())
    except ValidationError as error:
        return _refused(request, enrolment, key, form, error)
    return _done(request, enrolment, f"Saved: {change.summary}.")


@her_program
@require_POST
def remove_prescription(request, enrolment, prescription_pk):
    """One of her exercises comes off her list."""
    old = _own_prescription(enrolment, prescription_pk)
    try:
        change = tailoring.remove(enrolment, old, request.user, timezone.now())
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("tailor", pk=enrolment.pk)
    return _done(request, enrolment, f"Saved: {change.summary}.")


@her_program
@require_POST
def add_exercise(request, enrolment, stage_pk):
    """An exercise from the library joins one of her stages."""
    stage = get_object_or_404(Stage, pk=stage_pk, program_id=enrolment.program_id)
    key = f"add-{stage.pk}"
    form = DoseForm(request.POST, auto_id=f"s{stage.pk}_%s")
    if not form.is_valid():
        return _page(request, enrolment, {key: form})
    try:
        change = tailoring.add(enrolment, stage, form.dose(), request.user, timezone.now())
    except ValidationError as error:
        return _refused(request, enrolment, key, form, error)
    return _done(request, enrolment, f"Saved: {change.summary}.")


@her_program
@require_POST
def move_start(request, enrolment):
    """Her program starts on another date, and is counted again from it."""
    form = StartDateForm(request.POST)
    if not form.is_valid():
        return _page(request, enrolment, {"start": form})
    start = form.cleaned_data["start_date"]
    try:
        tailoring.move_start(enrolment, start, request.user, timezone.now())
    except ValidationError as error:
        return _refused(request, enrolment, "start", form, error)
    return _done(request, enrolment, f"Her program now starts on {start:%-d %B %Y}.")


@her_program
@require_POST
def move_program(request, enrolment):
    """She follows another published program from now on, keeping her history."""
    form = MoveProgramForm(request.POST, enrolment=enrolment)
    if not form.is_valid():
        return _page(request, enrolment, {"program": form})
    program = form.cleaned_data["program"]
    try:
        tailoring.move_program(enrolment, program, request.user, timezone.now())
    except ValidationError as error:
        return _refused(request, enrolment, "program", form, error)
    return _done(request, enrolment, f"She now follows {program.name}; her history stays.")
