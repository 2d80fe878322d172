"""A coach's view of one client, and what she does for her. Another coach's client is 404."""

from __future__ import annotations

from datetime import datetime, time
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.http import require_POST

from programs import (
    adherence,
    alerts,
    charts,
    checkins,
    clients,
    coaching,
    conversation,
    roles,
    safety,
    schedule,
)
from programs.facts import HER_FACTS
from programs.forms import BulkPauseForm, CoachNoteForm, MessageForm, StageOverrideForm
from programs.models import (
    CoachAction,
    Enrolment,
    Notification,
    SessionLog,
    Stage,
    StageOverride,
)


def coach_required(view):
    """Logged in (else to the log-in page), and a coach or staff (else 403)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not roles.coaches(request.user):
            raise PermissionDenied("This page is for coaches.")
        request.coaches = True  # for the header, which need not ask again
        return view(request, *args, **kwargs)

    return wrapper


def client_enrolment(request, pk: int) -> Enrolment:
    """The enrolment `pk`, with what her schedule needs, if the user looks after it; 404 for
    anyone else's."""
    enrolments = (
        clients.enrolments_of(request.user)
        .select_related("user", "program", "coach")
        .prefetch_related(
            Prefetch("program__stages", queryset=Stage.objects.with_prescriptions()), *HER_FACTS
        )
    )
    return get_object_or_404(enrolments, pk=pk)


def needs_fixing(request, enrolment: Enrolment):
    """A redirect to the dashboard saying what staff must fix, if her enrolment holds a zone or
    date the schedule cannot read; None if all is well."""
    if not (problem := enrolment.data_problem):
        return None
    messages.error(
        request,
        f"{enrolment.user.get_full_name() or 'This client'}'s enrolment needs fixing by staff "
        f"before her program can be shown or changed: {problem}",
    )
    return redirect("dashboard")


@coach_required
def client(request, pk):
    """Everything about one client: where she is, her charts, her timeline, her answers."""
    enrolment = client_enrolment(request, pk)
    if broken := needs_fixing(request, enrolment):
        return broken
    now = timezone.now()
    facts = enrolment.facts()
    logs = list(
        SessionLog.objects.filter(enrolment=enrolment).values_list("prescription_id", "local_date")
    )
    checkin_list = list(enrolment.checkins.order_by("-submitted_at"))
    pains = [c.pain for c in reversed(checkin_list)]
    failing = enrolment.notifications.filter(status=Notification.Status.FAILED).count()
    guided = list(
        enrolment.guided_sessions.order_by("-local_date", "-created_at").prefetch_related(
            "exercises__prescription__exercise"
        )
    )
    summary = coaching.client(
        facts,
        now,
        logs,
        pains,
        failing,
        clients.urgent_hold(enrolment.holds.all()),
        guided=[
            coaching.GuidedResult(g.local_date, bool(g.too_hard), g.pain_after)
            for g in reversed(guided)
        ],
    )
    tallies = adherence.weekly(facts, logs, now)
    notifications = list(
        enrolment.notifications.filter(
            status__in=[Notification.Status.SENT, Notification.Status.FAILED]
        ).order_by("-scheduled_for")[:100]
    )
    actions = list(enrolment.actions.select_related("actor"))
    stages = list(enrolment.program.stages.all())
    overrides = {o.stage_id: o for o in enrolment.overrides.all()}
    context = {
        "enrolment": enrolment,
        "summary": summary,
        "snap": summary.snapshot,
        "flag_labels": [coaching.FLAG_LABELS[f] for f in summary.flags],
        "urgent_label": coaching.FLAG_LABELS[coaching.Flag.URGENT],
        "hold": next((h for h in enrolment.holds.all() if h.is_open), None),
        "pain_chart": charts.pain_trend(
            [
                (charts.local_day(c.submitted_at, enrolment.timezone), c.pain)
                for c in reversed(checkin_list[:12])
            ]
        ),
        "adherence_chart": charts.percent_bars([t.percent for t in tallies]),
        "tallies": tallies,
        "guided": guided,
        "checkins": [_answers(c) for c in checkin_list],
        "timeline": _timeline(enrolment, logs, checkin_list, notifications, actions),
        "stages": [
            (stage, summary.snapshot.state_of(stage.pk), overrides.get(stage.pk))
            for stage in stages
        ],
        "note_form": CoachNoteForm(),
        "message_form": MessageForm(auto_id="message_%s"),
        "stage_form": StageOverrideForm(stages=stages),
        "health": roles.sees_health_data(request.user, enrolment),
    }
    if context["health"]:
        # Her coach reading the page has read her messages; other staff only look.
        reader = conversation.side_of(request.user, enrolment)
        context["thread"] = conversation.open_thread(enrolment, reader)
        context["writes"] = reader == conversation.Side.COACH
    else:
        _without_health_data(context)
    return render(request, "coach/client.html", context)


# Timeline entries that say nothing about her body or what she told anyone.
NEUTRAL_ENTRIES = {
    "session",
    "pause",
    "email",
    "failed",
    CoachAction.Kind.PAUSED,
    CoachAction.Kind.RESUMED,
    CoachAction.Kind.OPENED_STAGE,
    CoachAction.Kind.HELD_STAGE,
    CoachAction.Kind.RELEASED_STAGE,
    CoachAction.Kind.REMOVED_COACH,
    CoachAction.Kind.TAILORED,
    CoachAction.Kind.MOVED_START,
    CoachAction.Kind.MOVED_PROGRAM,
}


def _without_health_data(context: dict) -> None:
    """Staff who are not her coach and lack the permission (roles.sees_health_data): her
    program and adherence, no answers, pain, holds, notes or messages (her thread is not
    loaded for them at all)."""
    context["flag_labels"] = [
        coaching.FLAG_LABELS[f] for f in context["summary"].flags if f in roles.NEUTRAL_FLAGS
    ]
    context["hold"] = None
    context["pain_chart"] = None
    context["checkins"] = []
    context["guided"] = []
    context["timeline"] = [e for e in context["timeline"] if e["kind"] in NEUTRAL_ENTRIES]


def _answers(checkin) -> dict:
    return {
        "checkin": checkin,
        "sites": [safety.PAIN_SITES.get(code, code) for code in checkin.pain_sites],
        "warnings": [safety.describe(code) for code in checkin.warning_signs],
        "urgent": [safety.describe(code) for code in checkin.urgent_signs],
    }


def _timeline(enrolment, logs, checkin_list, notifications, actions) -> list[dict]:
    """Her history, newest first: sessions (a line a day), check-ins, pauses, holds, coach
    actions and notes, and the emails sent or failed."""
    entries = []
    per_day: dict = {}
    for _, day in logs:
        per_day[day] = per_day.get(day, 0) + 1
    for day, count in per_day.items():
        at = schedule.local_instant(day, time(23, 59), enrolment.tz)
        entries.append({"at": at, "kind": "session", "text": f"Logged {count} exercise(s)"})
    for c in checkin_list:
        tier = {0: "", 1: " (red flag)", 2: " (urgent)"}[c.tier]
        entries.append(
            {
                "at": c.submitted_at,
                "kind": "checkin",
                "text": f"Week {c.week} check-in{tier}",
                "anchor": f"checkin-{c.pk}",
            }
        )
    for p in enrolment.pauses.all():
        entries.append({"at": p.started_at, "kind": "pause", "text": "Program paused"})
        if p.ended_at:
            entries.append({"at": p.ended_at, "kind": "pause", "text": "Program resumed"})
    for h in enrolment.holds.all():
        entries.append({"at": h.started_at, "kind": "hold", "text": f"Tier {h.tier} hold began"})
        if h.cleared_at:
            who = h.cleared_by.get_full_name() or h.cleared_by.email if h.cleared_by else "staff"
            entries.append({"at": h.cleared_at, "kind": "hold", "text": f"Hold cleared by {who}"})
    for a in actions:
        who = (a.actor.get_full_name() or a.actor.email) if a.actor else "someone"
        entries.append(
            {
                "at": a.at,
                "kind": a.kind,
                "text": f"{who}: {a.get_kind_display()}",
                "detail": a.detail,
            }
        )
    for n in notifications:
        label = n.get_kind_display()
        if n.status == Notification.Status.SENT:
            entries.append(
                {"at": n.sent_at or n.scheduled_for, "kind": "email", "text": f"{label} sent"}
            )
        else:
            entries.append(
                {
                    "at": n.scheduled_for,
                    "kind": "failed",
                    "text": f"{label} failed",
                    "detail": n.last_error,
                }
            )
    entries.sort(key=lambda e: e["at"], reverse=True)
    return entries


@coach_required
@require_POST
def pause(request, pk):
    return _status_change(request, pk, Enrolment.pause, CoachAction.Kind.PAUSED, "Paused.")


@coach_required
@require_POST
def resume(request, pk):
    return _status_change(request, pk, Enrolment.resume, CoachAction.Kind.RESUMED, "Resumed.")


def change_status(enrolment: Enrolment, actor, change, kind: str, now: datetime) -> None:
    """Pause or resume her program (`change`), recorded as the coach's action, or neither."""
    with transaction.atomic():
        change(enrolment, now)
        CoachAction.record(enrolment, actor, kind, now)


def _status_change(request, pk, change, kind, success):
    enrolment = client_enrolment(request, pk)
    now = timezone.now()
    try:
        change_status(enrolment, request.user, change, kind, now)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, success)
    return redirect("client", pk=enrolment.pk)


@coach_required
@require_POST
def bulk_pause(request):
    """Pause the clients chosen on the dashboard, each as if paused on her own page, in one
    transaction. Those already paused, or whose program has ended, are named and left alone."""
    form = BulkPauseForm(request.POST, enrolments=clients.enrolments_of(request.user))
    if not form.is_valid():
        messages.error(request, form.errors["clients"][0])
        return redirect("dashboard")
    now = timezone.now()
    paused, already, ended = [], [], []
    with transaction.atomic():
        # Read again under lock, so that a pause made meanwhile is seen, not repeated; locked
        # in id order, as planning locks them, so the two never deadlock.
        chosen = sorted(
            form.cleaned_data["clients"]
            .select_related("user")
            .select_for_update(of=("self",))
            .order_by("pk"),
            key=lambda e: (e.user.first_name, e.user.last_name, e.user.email),
        )
        for enrolment in chosen:
            name = enrolment.user.get_full_name() or enrolment.user.email
            if enrolment.status == Enrolment.Status.PAUSED:
                already.append(name)
            elif enrolment.status != Enrolment.Status.ACTIVE:
                ended.append(name)
            else:
                change_status(
                    enrolment, request.user, Enrolment.pause, CoachAction.Kind.PAUSED, now
                )
                paused.append(name)
    if paused:
        messages.success(request, f"Paused {len(paused)} client{pluralize(len(paused))}.")
    else:
        messages.error(request, "Nobody was paused.")
    if already:
        messages.info(request, f"Already paused, left as they were: {', '.join(already)}.")
    if ended:
        messages.warning(
            request, f"Not paused, as their program is not active: {', '.join(ended)}."
        )
    return redirect("dashboard")


@coach_required
@require_POST
def stage_override(request, pk):
    """Open a stage before its week, hold one after it, or release either."""
    enrolment = client_enrolment(request, pk)
    stages = list(enrolment.program.stages.all())
    form = StageOverrideForm(request.POST, stages=stages)
    if not form.is_valid():
        messages.error(request, "Choose a stage and what to do with it.")
        return redirect("client", pk=enrolment.pk)
    stage, action = form.cleaned_data["stage"], form.cleaned_data["action"]
    now = timezone.now()
    with transaction.atomic():
        if action == "release":
            StageOverride.objects.filter(enrolment=enrolment, stage=stage).delete()
            kind = CoachAction.Kind.RELEASED_STAGE
        else:
            StageOverride.objects.update_or_create(
                enrolment=enrolment,
                stage=stage,
                defaults={"action": action, "created_at": now, "created_by": request.user},
            )
            kind = (
                CoachAction.Kind.OPENED_STAGE if action == "open" else CoachAction.Kind.HELD_STAGE
            )
        CoachAction.record(enrolment, request.user, kind, now, detail=stage.title)
    messages.success(request, f"{CoachAction.Kind(kind).label}: {stage.title}.")
    return redirect("client", pk=enrolment.pk)


@coach_required
@require_POST
def note(request, pk):
    enrolment = client_enrolment(request, pk)
    form = CoachNoteForm(request.POST)
    if form.is_valid():
        CoachAction.record(
            enrolment,
            request.user,
            CoachAction.Kind.NOTE,
            timezone.now(),
            form.cleaned_data["text"],
        )
        messages.success(request, "Note saved. Only coaches and staff see it.")
    else:
        messages.error(request, form.errors["text"][0])
    return redirect("client", pk=enrolment.pk)


@coach_required
@require_POST
def acknowledge(request, pk):
    """She has been seen to: recorded on her hold and in her timeline; the hold stays."""
    enrolment = client_enrolment(request, pk)
    if not roles.sees_health_data(request.user, enrolment):
        messages.error(request, "Only her coach or clinical staff can acknowledge her alert.")
    else:
        acknowledge_and_say(request, enrolment, "Clear the hold once it is safe.")
    return redirect("client", pk=enrolment.pk)


def acknowledge_and_say(request, enrolment, then: str) -> None:
    """Acknowledge her alert as this user, and say what happened (the client and triage pages)."""
    try:
        _, done = alerts.acknowledge(enrolment, request.user, timezone.now())
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        if done:
            messages.success(request, f"Alert acknowledged. {then}")
        else:
            messages.info(request, "That alert was already acknowledged.")


@coach_required
@require_POST
def clear_hold(request, pk):
    enrolment = client_enrolment(request, pk)
    try:
        checkins.clear_hold(enrolment, request.user, timezone.now())
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, "Hold cleared. Her program moves on again.")
    return redirect("client", pk=enrolment.pk)
