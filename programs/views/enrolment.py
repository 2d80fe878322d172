"""Her side of the program: enrolling, the Today page, progress, and pausing or leaving."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from programs import adherence, charts, conversation, roles, schedule, sessions, tailoring
from programs.facts import HER_FACTS
from programs.forms import (
    ClearanceForm,
    EnrolmentForm,
    GuidedSessionForm,
    MessageForm,
    MonthForm,
)
from programs.models import (
    Enrolment,
    Prescription,
    Program,
    SessionLog,
    Stage,
)
from programs.views import invitations


def _enrolments():
    return Enrolment.objects.select_related("program").prefetch_related(
        Prefetch("program__stages", queryset=Stage.objects.with_prescriptions()), *HER_FACTS
    )


def _own_enrolment(request, pk: int) -> Enrolment:
    return get_object_or_404(_enrolments(), pk=pk, user=request.user)


def unreadable(request, enrolment: Enrolment):
    """A redirect to her settings if her enrolment holds a zone or date the schedule cannot
    read, so she can choose again; None if all is well."""
    if not enrolment.data_problem:
        return None
    messages.error(
        request,
        "We could not read your time zone or start date. Please choose your time zone again; "
        "if this message comes back, ask the clinic team to check your start date.",
    )
    return redirect("preferences", pk=enrolment.pk)


@login_required
def enrol(request, slug):
    program = get_object_or_404(Program, slug=slug, is_published=True)
    existing = Enrolment.objects.filter(
        user=request.user, program=program, status__in=Enrolment.CURRENT
    ).first()
    if existing:
        messages.info(request, "You are already enrolled in this program.")
        return redirect(existing)

    form = EnrolmentForm(
        request.POST if request.method == "POST" else None, user=request.user, program=program
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                enrolment = form.save()
                # A coach's invitation she opened: that coach becomes hers.
                invitations.accept_pending(request, enrolment, timezone.now())
        except IntegrityError:
            # A second tab enrolled between validation and saving.
            form.add_error(None, "You are already enrolled in this program.")
        else:
            messages.success(request, f"Welcome to {program.name}.")
            return redirect(enrolment)
    if not form.is_bound:
        form.initial.setdefault("start_date", timezone.localdate())
        form.initial.setdefault("timezone", timezone.get_current_timezone_name())
    return render(request, "programs/enrol.html", {"program": program, "form": form})


@login_required
def today_redirect(request):
    """/today/ opens her most recent current program; with none, a coach's dashboard or the
    catalogue."""
    enrolment = (
        Enrolment.objects.filter(user=request.user, status__in=Enrolment.CURRENT)
        .order_by("-created_at")
        .first()
    )
    if enrolment is None and roles.coaches(request.user):
        return redirect("dashboard")
    if enrolment is None:
        messages.info(request, "Choose a program to begin.")
        return redirect("home")
    return redirect(enrolment)


@login_required
def today(request, pk):
    enrolment = _own_enrolment(request, pk)
    if broken := unreadable(request, enrolment):
        return broken
    now = timezone.now()
    facts = enrolment.facts()
    snap = schedule.snapshot(facts, now)
    hold = next((h for h in enrolment.holds.all() if h.is_open), None)
    context = {
        "enrolment": enrolment,
        "snap": snap,
        "hold": hold,
        "clearance_form": ClearanceForm(early=schedule.before_six_weeks(facts, now)),
        "session_ready": enrolment.is_current
        and not _why_no_session(enrolment, snap)
        and bool(schedule.due_today(snap)),
        # Her thread with her coach, shown here, so what it shows is read.
        "thread": conversation.open_thread(enrolment, conversation.Side.CLIENT),
        "message_form": MessageForm(auto_id="message_%s"),
        "coach_changes": tailoring.recent_changes(enrolment, now),
        **_today_lists(enrolment, snap, facts, now),
    }
    return render(request, "programs/today.html", context)


def _today_lists(enrolment: Enrolment, snap: schedule.Snapshot, facts, now) -> dict:
    """Group the program's stages for the Today page: what is due today (exactly the session
    email's list, in its order: `schedule.due_today`), the rest of her daily list, earlier open
    stages and locked ones, each as her coach tailored it, with what she has logged today and
    this week."""
    if snap.urgent:
        # Nothing to do but get help: the page shows the urgent advice alone.
        return {
            "due": [],
            "also": [],
            "first_week": [],
            "earlier": [],
            "locked": [],
            "withheld": [],
        }
    span = schedule.week_dates(facts, snap.week, snap.today) if snap.started else None
    logs = []
    if span:
        logs = SessionLog.objects.filter(enrolment=enrolment, local_date__range=span).values_list(
            "prescription_id", "local_date"
        )
    week_done: dict[int, set] = {}
    for prescription_id, day in logs:
        week_done.setdefault(prescription_id, set()).add(day)

    def item(prescription):
        return _item(prescription, week_done.get(prescription.pk, set()), snap.today)

    by_pk = tailoring.her_prescriptions(enrolment)
    focus_keys = {spec.key for spec in snap.focus}
    daily_keys = {spec.key for spec in snap.daily}
    due_keys = [spec.key for spec in schedule.due_today(snap)]
    stage_of: dict[int, tuple[Stage, Prescription]] = {}
    first_week, also, earlier, locked, withheld = [], [], [], [], []
    for stage, prescriptions in tailoring.stage_lists(enrolment, facts, now, by_pk):
        state = snap.state_of(stage.pk)
        if not state.is_open:
            locked.append((stage, state))
            continue
        if stage.pk not in focus_keys:
            earlier.append((stage, prescriptions))
            continue
        for prescription in prescriptions:
            stage_of[prescription.pk] = (stage, prescription)
        first_week.append(stage)
        rest = [item(p) for p in prescriptions if p.pk in daily_keys and p.pk not in due_keys]
        if rest:
            also.append((stage, rest))
        withheld.extend(p.exercise for p in prescriptions if p.pk not in daily_keys)
    # Today's list in the email's order, under a heading for each stage as it comes.
    due: list[tuple[Stage, list[dict]]] = []
    for key in due_keys:
        stage, prescription = stage_of[key]
        if not due or due[-1][0] != stage:
            due.append((stage, []))
        due[-1][1].append(item(prescription))
    return {
        "due": due,
        "also": also,
        "first_week": first_week,
        "earlier": earlier,
        "locked": locked,
        "withheld": withheld,
    }


def _item(prescription: Prescription, days_done: set, today) -> dict:
    return {
        "prescription": prescription,
        "exercise": prescription.exercise,
        "done_today": today in days_done,
        "done_this_week": min(len(days_done), prescription.days_per_week),
    }


@login_required
@require_POST
def log_session(request, pk, prescription_pk):
    """Mark one exercise done today, or undo that. Works as a plain form post or with htmx."""
    enrolment = _own_enrolment(request, pk)
    now = timezone.now()
    snap = enrolment.snapshot(now)
    prescription = get_object_or_404(
        Prescription.objects.select_related("exercise", "stage"),
        Q(enrolment=None) | Q(enrolment=enrolment),
        pk=prescription_pk,
        stage__program=enrolment.program,
    )
    undo = request.POST.get("action") == "undo"
    problem = _why_cannot_log(enrolment, snap, prescription)
    if problem:
        messages.error(request, problem)
        return redirect(enrolment)

    if undo:
        SessionLog.objects.filter(
            enrolment=enrolment, prescription=prescription, local_date=snap.today
        ).delete()
    else:
        SessionLog.objects.get_or_create(
            enrolment=enrolment, prescription=prescription, local_date=snap.today
        )

    if not request.headers.get("HX-Request"):
        return redirect(reverse("today", args=[enrolment.pk]) + f"#ex-{prescription.pk}")
    span = schedule.week_dates(enrolment.facts(), snap.week, snap.today)
    days_done = set(
        SessionLog.objects.filter(
            enrolment=enrolment, prescription=prescription, local_date__range=span
        ).values_list("local_date", flat=True)
    )
    context = {"enrolment": enrolment, "item": _item(prescription, days_done, snap.today)}
    return render(request, "programs/_exercise.html", context)


def _why_cannot_log(enrolment: Enrolment, snap: schedule.Snapshot, prescription) -> str:
    if problem := _why_no_session(enrolment, snap):
        return problem
    if not snap.state_of(prescription.stage_id).is_open:
        return "That stage is not open yet."
    if prescription.exercise.lifting and not any(p.key == prescription.pk for p in snap.daily):
        return "After a caesarean, lifting waits until you have been cleared to exercise."
    return ""


def _why_no_session(enrolment: Enrolment, snap: schedule.Snapshot) -> str:
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        return "You have left this program."
    if snap.urgent:
        return (
            "Please don't exercise for now: your last check-in showed a sign that needs "
            "urgent medical help. Your exercises come back once the hold is cleared."
        )
    if snap.paused:
        return "Your program is paused. Resume it to log sessions."
    if not snap.started:
        return "Your program has not started yet."
    return ""


@login_required
def guided_session(request, pk):
    """Today's session one exercise at a time (static/js/guided.js paces it; without
    JavaScript the page is one long form), then how each exercise went."""
    enrolment = _own_enrolment(request, pk)
    if broken := unreadable(request, enrolment):
        return broken
    snap = schedule.snapshot(enrolment.facts(), timezone.now())
    if problem := _why_no_session(enrolment, snap):
        messages.error(request, problem)
        return redirect(enrolment)
    prescriptions = _due_today(enrolment, snap)
    if not prescriptions:
        messages.info(request, "Nothing is due today: enjoy the rest day.")
        return redirect(enrolment)
    form = GuidedSessionForm(
        request.POST if request.method == "POST" else None, prescriptions=prescriptions
    )
    if request.method == "POST" and form.is_valid():
        done = _save_guided(enrolment, snap.today, form)
        messages.success(
            request, f"Session saved: {done} of {len(prescriptions)} exercises done today."
        )
        return redirect(enrolment)
    context = {"enrolment": enrolment, "snap": snap, "form": form, "steps": prescriptions}
    return render(request, "programs/guided.html", context)


def _due_today(enrolment: Enrolment, snap: schedule.Snapshot) -> list[Prescription]:
    """Her prescriptions due today, in the order her session email lists them."""
    by_key = tailoring.her_prescriptions(enrolment)
    return [by_key[spec.key] for spec in schedule.due_today(snap) if spec.key in by_key]


def _save_guided(enrolment: Enrolment, today, form: GuidedSessionForm) -> int:
    """The session, a row per exercise, and a SessionLog for each one done (adherence counts
    those), all or nothing. Returns how many she did."""
    results = form.results()
    sessions.record(enrolment, today, form.cleaned_data["pain_after"], results)
    return sum(1 for _, done, _ in results if done)


@login_required
def progress(request, pk):
    enrolment = _own_enrolment(request, pk)
    if broken := unreadable(request, enrolment):
        return broken
    now = timezone.now()
    today = charts.local_day(now, enrolment.timezone)
    month = MonthForm(request.GET, earliest=min(enrolment.start_date, today), latest=today)
    facts = enrolment.facts()
    snap = schedule.snapshot(facts, now)
    logs = list(
        SessionLog.objects.filter(enrolment=enrolment).values_list("prescription_id", "local_date")
    )
    trained = {day for _, day in logs}
    first = month.first
    # The last 12 check-ins, each on the day it was in her zone.
    recent = enrolment.checkins.order_by("-submitted_at").values_list("submitted_at", "pain")[:12]
    readings = [(charts.local_day(at, enrolment.timezone), pain) for at, pain in reversed(recent)]
    prescriptions = tailoring.her_prescriptions(enrolment)
    weeks = [
        {
            "tally": tally,
            "rows": [(prescriptions[line.target.key], line) for line in tally.lines],
            "current": tally.week == snap.week and not snap.finished,
        }
        for tally in adherence.weekly(facts, logs, now)
    ]
    weeks.reverse()
    closed = [
        (stage, snap.state_of(stage.pk))
        for stage in enrolment.program.stages.all()
        if not snap.state_of(stage.pk).is_open
    ]
    context = {
        "enrolment": enrolment,
        "snap": snap,
        "weeks": weeks,
        "total_logged": len(logs),
        "guided": enrolment.guided_sessions.order_by("-local_date", "-created_at").prefetch_related(
            "exercises__prescription__exercise"
        )[:10],
        "closed": closed if enrolment.is_current else [],
        "pain": charts.pain_trend(readings),
        "adherence": charts.percent_bars([w["tally"].percent for w in reversed(weeks)]),
        "calendar": charts.month_calendar(first, trained, today),
        "previous_month": charts.previous_month(first) if first > month.earliest else None,
        "next_month": charts.next_month(first) if first < month.latest else None,
        "streak": charts.streak(trained, today),
        # A bad ?month= is ignored, as the dashboard ignores a bad filter, and said so.
        "month_ignored": None if month.is_valid() else month.errors["month"][0],
    }
    return render(request, "programs/progress.html", context)


@login_required
@require_POST
def confirm_clearance(request, pk):
    enrolment = _own_enrolment(request, pk)
    now = timezone.now()
    form = ClearanceForm(request.POST, early=schedule.before_six_weeks(enrolment.facts(), now))
    if form.is_valid():
        enrolment.confirm_clearance(now)
        messages.success(request, _cleared_message(enrolment, now))
    else:
        messages.error(request, next(iter(form.errors.values()))[0])
    return redirect(enrolment)


def _cleared_message(enrolment: Enrolment, now) -> str:
    """What her clearance opened, as the schedule has it: now, in a week, or in its week."""
    snap = enrolment.snapshot(now)
    opened = [
        stage.title
        for stage in enrolment.program.stages.all()
        if snap.state_of(stage.pk).is_open and not stage.open_before_clearance
    ]
    waiting = any(s.lock is schedule.Lock.PACED for s in snap.stages)
    if not opened:
        return "Thank you. The next stage opens in its week."
    message = f"Thank you. Open now: {', '.join(opened)}."
    if waiting:
        message += " The stages whose weeks have passed open one a week from here."
    return message


@login_required
@require_POST
def pause(request, pk):
    return _change_status(request, pk, Enrolment.pause, "Paused. Your stages will wait for you.")


@login_required
@require_POST
def resume(request, pk):
    return _change_status(
        request, pk, Enrolment.resume, "Welcome back. Your program has picked up where you left it."
    )


@login_required
def withdraw(request, pk):
    enrolment = _own_enrolment(request, pk)
    if request.method != "POST":
        return render(request, "programs/withdraw.html", {"enrolment": enrolment})
    return _change_status(request, pk, Enrolment.withdraw, "You have left the program.")


def _change_status(request, pk, change, success: str):
    enrolment = _own_enrolment(request, pk)
    now = timezone.now()
    try:
        change(enrolment, now)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, success)
    if enrolment.status == Enrolment.Status.WITHDRAWN:
        return redirect("home")
    return redirect(enrolment)
