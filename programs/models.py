"""
The program library (programs, stages, exercises, prescriptions) and each woman's enrolment.

What is open when is not stored: `Enrolment.snapshot()` asks `programs.schedule`, a pure
module, from the facts kept here (start date, time zone, pauses, clearance).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.urls import reverse
from django.utils import timezone

from programs import media as media_rules
from programs import notifications, reminders, schedule, standing, wakeups, zones


class ProgramQuerySet(models.QuerySet):
    def specs(self) -> dict[int, tuple[schedule.StageSpec, ...]]:
        """Each program's stages as schedule values, in two queries for all of them."""
        programs = self.prefetch_related(
            models.Prefetch("stages", queryset=Stage.objects.with_prescriptions())
        )
        return {p.pk: tuple(stage.spec() for stage in p.stages.all()) for p in programs}


class Program(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    summary = models.CharField(max_length=300, help_text="One or two sentences for the catalogue.")
    description = models.TextField(blank=True)
    weeks = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="Length of the program in weeks.",
    )
    is_published = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weeks__gte=1) & Q(weeks__lte=52), name="program_weeks_in_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("program_detail", args=[self.slug])


# Exercises the guided session paces breath by breath (in, then out) rather than counting reps.
BREATHING_EXERCISES = frozenset({"360-breathing"})


class Exercise(models.Model):
    class Timing(models.TextChoices):
        ANY = "any", "Any time"
        SESSION = "session", "During your session"
        EVENING = "evening", "Later in the day, e.g. before bed"

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    instructions = models.TextField(help_text="How to do it, step by step. One step per line.")
    cues = models.TextField(blank=True, help_text="What to feel or think about. One per line.")
    stop_if = models.TextField(help_text="When to stop. One per line.")
    timing = models.CharField(max_length=10, choices=Timing, default=Timing.SESSION)
    video_url = models.URLField(blank=True)
    # Staff's own picture or short video, shown instead of the drawn figure where there is one.
    media = models.FileField(
        "picture or video",
        upload_to="exercises/",
        blank=True,
        help_text="A PNG, JPEG or WebP picture, or a short MP4 or WebM video. "
        "It replaces the drawn figure on her Today page and in the guided session.",
    )
    media_description = models.CharField(
        "what it shows",
        max_length=200,
        blank=True,
        help_text="One sentence for someone who cannot see it, e.g. 'Lying on her back, knees "
        "bent, lifting her hips.' Needed with a picture or video.",
    )
    lifting = models.BooleanField(
        default=False,
        help_text="Lifts more than her baby's weight: after a caesarean it stays off her list "
        "until her clinician has cleared her, whatever stage it is in.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def media_kind(self) -> str:
        """image, video, or "" without media."""
        return media_rules.kind_of(self.media.name) if self.media else ""

    @property
    def steps(self) -> list[str]:
        return _lines(self.instructions)

    @property
    def cue_list(self) -> list[str]:
        return _lines(self.cues)

    @property
    def stop_if_list(self) -> list[str]:
        return _lines(self.stop_if)

    @property
    def is_breathing(self) -> bool:
        return self.slug in BREATHING_EXERCISES


class StageQuerySet(models.QuerySet):
    def with_prescriptions(self):
        """Each stage with its program's own prescriptions and their exercises, prefetched."""
        return self.prefetch_related(
            models.Prefetch(
                "prescriptions",
                queryset=Prescription.objects.of_programs().select_related("exercise"),
            )
        )


class Stage(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="stages")
    position = models.PositiveSmallIntegerField(help_text="Order within the program, from 1.")
    slug = models.SlugField(max_length=80)
    title = models.CharField(max_length=120)
    unlock_week = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1)], help_text="The program week in which this stage opens."
    )
    goal = models.CharField(max_length=300, help_text="What this stage is for, in one sentence.")
    description = models.TextField(blank=True)
    open_before_clearance = models.BooleanField(
        default=False,
        help_text="Open even before her clinician has cleared her to exercise "
        "(gentle breathing and pelvic-floor work only).",
    )
    ongoing = models.BooleanField(
        default=False,
        help_text="Stays on her daily list after later stages open.",
    )
    loaded = models.BooleanField(
        default=False,
        help_text="Loads the body (strength, lifting): stays closed until about 6 weeks after "
        "birth, whatever week of the program she is in.",
    )

    objects = StageQuerySet.as_manager()

    class Meta:
        ordering = ["program", "position"]
        constraints = [
            models.UniqueConstraint(fields=["program", "position"], name="stage_position_unique"),
            models.UniqueConstraint(fields=["program", "slug"], name="stage_slug_unique"),
            models.CheckConstraint(condition=Q(unlock_week__gte=1), name="stage_unlock_week_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.program}: {self.title}"

    def clean(self) -> None:
        if self.program_id and self.unlock_week and self.unlock_week > self.program.weeks:
            raise ValidationError(
                {"unlock_week": f"The program has only {self.program.weeks} weeks."}
            )

    def spec(self) -> schedule.StageSpec:
        """Uses prefetched prescriptions (`StageQuerySet.with_prescriptions`): the program's
        own, never one tailored for one woman."""
        return schedule.StageSpec(
            key=self.pk,
            unlock_week=self.unlock_week,
            open_before_clearance=self.open_before_clearance,
            ongoing=self.ongoing,
            prescriptions=tuple(
                schedule.PrescriptionSpec(p.pk, p.days_per_week, lifting=p.exercise.lifting)
                for p in self.prescriptions.all()
                if p.enrolment_id is None
            ),
            loaded=self.loaded,
        )


class PrescriptionQuerySet(models.QuerySet):
    def of_programs(self):
        """The programs' own prescriptions, without those tailored for one woman."""
        return self.filter(enrolment=None)


class Prescription(models.Model):
    """How much of one exercise a stage asks for: of everyone in the program, or, tailored by
    her coach (`Tailoring`), of one woman."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="prescriptions")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="prescriptions")
    position = models.PositiveSmallIntegerField(default=1)
    sets = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    reps = models.PositiveSmallIntegerField(null=True, blank=True)
    hold_seconds = models.PositiveSmallIntegerField(null=True, blank=True)
    days_per_week = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    note = models.CharField(max_length=160, blank=True, help_text='e.g. "each side"')
    enrolment = models.ForeignKey(
        "Enrolment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="own_prescriptions",
        help_text="Set when her coach tailored it for her alone; not part of the program.",
    )

    objects = PrescriptionQuerySet.as_manager()

    class Meta:
        ordering = ["stage", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "exercise"],
                condition=Q(enrolment=None),
                name="prescription_unique",
            ),
            models.CheckConstraint(
                condition=Q(reps__isnull=False) | Q(hold_seconds__isnull=False),
                name="prescription_has_reps_or_hold",
            ),
            models.CheckConstraint(
                condition=Q(days_per_week__gte=1) & Q(days_per_week__lte=7),
                name="prescription_days_per_week_1_7",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.exercise} ({self.dose})"

    @staticmethod
    def check_amount(reps: int | None, hold_seconds: int | None) -> None:
        """A prescription asks for repetitions, a hold, or both."""
        if reps is None and hold_seconds is None:
            raise ValidationError("Give a number of reps, a hold time, or both.")

    def clean(self) -> None:
        self.check_amount(self.reps, self.hold_seconds)

    @property
    def dose(self) -> str:
        """The prescription in words: "2 × 10 reps, hold 5 s, each side"."""
        return ", ".join([self.amount, self.note] if self.note else [self.amount])

    @property
    def emailed_dose(self) -> str:
        """The dose as her emails give it. A note her coach wrote for her alone may say why
        (her pain, her scar): it stays behind the login, on her Today page."""
        return self.amount if self.enrolment_id else self.dose

    @property
    def amount(self) -> str:
        """Sets, reps and hold, without the note: "2 × 10 reps, hold 5 s"."""
        parts = []
        if self.reps is not None:
            parts.append(
                f"{self.sets} × {self.reps} reps" if self.sets > 1 else f"{self.reps} reps"
            )
            if self.hold_seconds:
                parts.append(f"hold {self.hold_seconds} s")
        else:
            hold = _duration(self.hold_seconds or 0)
            parts.append(f"{self.sets} × {hold}" if self.sets > 1 else hold)
        return ", ".join(parts)

    @property
    def frequency(self) -> str:
        return "every day" if self.days_per_week == 7 else f"{self.days_per_week} days a week"


@dataclass
class Related:
    """Her rows besides her enrolment that her schedule's facts are built from."""

    pauses: list[Pause] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)
    overrides: list[StageOverride] = field(default_factory=list)
    tailorings: list[Tailoring] = field(default_factory=list)
    moves: list[ProgramMove] = field(default_factory=list)

    @classmethod
    def prefetched(cls, enrolment: Enrolment) -> Related:
        """Read from her prefetched relations (`programs.facts.HER_FACTS`)."""
        return cls(
            pauses=list(enrolment.pauses.all()),
            holds=list(enrolment.holds.all()),
            overrides=list(enrolment.overrides.all()),
            tailorings=list(enrolment.tailorings.all()),
            moves=list(enrolment.moves.all()),
        )


class Enrolment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        WITHDRAWN = "withdrawn", "Withdrawn"
        # Set by planning once her last email is planned and its moment has passed.
        COMPLETED = "completed", "Completed"

    CURRENT = (Status.ACTIVE, Status.PAUSED)
    # Whom her coach still follows on the dashboard and in the digest.
    FOLLOWED = (Status.ACTIVE, Status.PAUSED, Status.COMPLETED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrolments")
    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="clients",
        limit_choices_to={"groups__name": "Coaches"},
    )
    start_date = models.DateField(
        help_text="Week 1 begins at midnight of this day, her time.",
        validators=[zones.validate_date],
    )
    timezone = models.CharField(max_length=64, validators=[zones.validate_zone])
    reminder_time = models.TimeField(default=time(8, 0))
    # Her own time for some weekdays, or none: {"0": "07:30", "6": null} (Monday is "0"); days
    # left out are at reminder_time. Read through `weekday_times`; the preferences form checks it.
    reminder_days = models.JSONField(default=dict, blank=True)
    weeks_postpartum = models.PositiveSmallIntegerField(
        validators=[
            MaxValueValidator(
                104, "This program is for the first two years after birth: enter 0 to 104."
            )
        ],
        help_text="Weeks since delivery when she enrolled.",
    )
    caesarean = models.BooleanField()
    cleared_at = models.DateTimeField(
        null=True, blank=True, help_text="When she confirmed her clinician cleared her to exercise."
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    # Which emails she wants: one field per programs.notifications.PREFERENCES entry.
    email_session = models.BooleanField(notifications.SESSION_PREFERENCE.label, default=True)
    email_nudge = models.BooleanField(notifications.NUDGE_PREFERENCE.label, default=True)
    email_stage = models.BooleanField(notifications.STAGE_PREFERENCE.label, default=True)
    email_checkin = models.BooleanField(notifications.CHECKIN_PREFERENCE.label, default=True)
    email_evening = models.BooleanField(notifications.EVENING_PREFERENCE.label, default=True)
    # Part of what signs her calendar feed's address: a new value revokes the old address.
    calendar_secret = models.CharField(max_length=32, blank=True, editable=False)

    # Planning's bookkeeping (programs.planning). Empty: something changed, plan her now.
    planned_until = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Her emails are planned up to here."
    )
    plan_error = models.TextField(blank=True, editable=False)
    plan_failed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A new random value whenever she is marked for planning: an email prepared ahead is sent as
    # prepared only while this still holds the value it was prepared under.
    version = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "program"],
                condition=Q(status__in=["active", "paused"]),
                name="one_current_enrolment_per_program",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["active", "paused", "withdrawn", "completed"]),
                name="enrolment_status_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "program"]),
            # The sweep's query: only enrolments still planned for are in it.
            models.Index(
                fields=["planned_until"],
                name="enrolment_plan_due",
                condition=Q(status__in=["active", "paused"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.program}"

    def save(self, *args, **kwargs):
        # Whatever was edited (status, zone, time, preferences, dates, in a view or the admin),
        # her emails are planned again: this is the one place that decides so for her row.
        _save_marked(self, super().save, args, kwargs)
        wakeups.replan_on_commit(self.pk)

    def get_absolute_url(self) -> str:
        return reverse("today", args=[self.pk])

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def data_problem(self) -> str:
        """Why the schedule cannot read her enrolment, or "". Only rows saved before the
        validators existed, or written around them, can hold such data."""
        try:
            zones.validate_zone(self.timezone)
            zones.validate_date(self.start_date)
        except ValidationError as error:
            return error.messages[0]
        return ""

    @property
    def is_current(self) -> bool:
        return self.status in self.CURRENT

    @property
    def is_paused(self) -> bool:
        return self.status == self.Status.PAUSED

    def local_today(self, now: datetime) -> date:
        return now.astimezone(self.tz).date()

    def facts(
        self, specs: dict[int, tuple] | None = None, related: Related | None = None
    ) -> schedule.EnrolmentFacts:
        """The plain values the schedule works from. Uses prefetched stages (with their
        prescriptions and exercises); her pauses, holds, overrides, tailorings and moves come
        from `related` (`programs.facts.related_for`), else prefetched
        (`programs.facts.with_facts`). Batch callers pass in the stages of the programs
        (`programs.facts.specs_for`)."""
        related = related or Related.prefetched(self)
        moves = related.moves
        if specs is None:
            specs = {self.program_id: tuple(s.spec() for s in self.program.stages.all())}
            if missing := {m.from_program_id for m in moves} - specs.keys():
                specs.update(Program.objects.filter(pk__in=missing).specs())
        overrides = related.overrides
        return schedule.EnrolmentFacts(
            start_date=self.start_date,
            tz=self.tz,
            weeks=self.program.weeks,
            stages=specs[self.program_id],
            pauses=tuple(schedule.Interval(p.started_at, p.ended_at) for p in related.pauses),
            cleared_at=self.cleared_at,
            holds=tuple(
                schedule.Interval(h.started_at, h.cleared_at, urgent=h.tier == 2)
                for h in related.holds
            ),
            opened_early=frozenset(
                o.stage_id for o in overrides if o.action == StageOverride.Action.OPEN
            ),
            held_stages=frozenset(
                o.stage_id for o in overrides if o.action == StageOverride.Action.HOLD
            ),
            override_times=tuple((o.stage_id, o.created_at) for o in overrides),
            birth_date=self.birth_date,
            caesarean=self.caesarean,
            changes=tuple(t.change() for t in related.tailorings),
            earlier=tuple(
                schedule.Era(m.moved_at, m.from_program.weeks, specs[m.from_program_id])
                for m in moves
            ),
        )

    @property
    def birth_date(self) -> date:
        """Her baby's birth date, estimated: the local date she enrolled, less the weeks since
        birth she gave then."""
        enrolled = self.created_at or timezone.now()  # not saved yet: she is enrolling now
        return enrolled.astimezone(self.tz).date() - timedelta(weeks=self.weeks_postpartum)

    @property
    def weekday_times(self) -> tuple[time | None, ...]:
        """Her reminder time for each weekday, Monday first (None: no reminder that day)."""
        return reminders.weekday_times(self.reminder_time, self.reminder_days or {})

    @property
    def turned_off(self) -> frozenset[str]:
        """The keys of the preferences (programs.notifications.PREFERENCES) she turned off."""
        return frozenset(
            key for key, p in notifications.PREFERENCES.items() if not getattr(self, p.field)
        )

    def snapshot(self, now: datetime) -> schedule.Snapshot:
        return schedule.snapshot(self.facts(), now)

    def reset_calendar_link(self) -> None:
        """A new calendar address; the old one stops working. Her plan is unchanged, so this
        is not a save that re-plans her."""
        self.calendar_secret = secrets.token_hex(16)
        Enrolment.objects.filter(pk=self.pk).update(calendar_secret=self.calendar_secret)

    # State changes. Each is atomic and refuses what does not fit the current status.

    @transaction.atomic
    def pause(self, now: datetime) -> None:
        if self.status != self.Status.ACTIVE:
            raise ValidationError("Only an active program can be paused.")
        self.pauses.create(started_at=now)
        self.status = self.Status.PAUSED
        self.save(update_fields=["status"])

    @transaction.atomic
    def resume(self, now: datetime) -> None:
        if self.status != self.Status.PAUSED:
            raise ValidationError("This program is not paused.")
        self.pauses.filter(ended_at__isnull=True).update(ended_at=now)
        self.status = self.Status.ACTIVE
        self.save(update_fields=["status"])

    @transaction.atomic
    def withdraw(self, now: datetime) -> None:
        if not self.is_current:
            raise ValidationError("This program has already ended.")
        self.pauses.filter(ended_at__isnull=True).update(ended_at=now)
        self.status = self.Status.WITHDRAWN
        self.withdrawn_at = now
        self.save(update_fields=["status", "withdrawn_at"])

    def confirm_clearance(self, now: datetime) -> None:
        if self.cleared_at is None:
            self.cleared_at = now
            self.save(update_fields=["cleared_at"])


class Pause(models.Model):
    """A span during which her program clock stood still; unlocks move by its days."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=Q(ended_at__isnull=True),
                name="one_open_pause_per_enrolment",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=models.F("started_at")),
                name="pause_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Pause from {self.started_at:%Y-%m-%d %H:%M} UTC"


class SessionLog(models.Model):
    """She did one prescribed exercise on one day of her own calendar."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="sessions")
    # Restricted: deleting an exercise from a program must not erase the sessions women logged
    # of it, and with them their adherence so far; deleting her enrolment takes them all.
    prescription = models.ForeignKey(
        Prescription, on_delete=models.RESTRICT, related_name="sessions"
    )
    local_date = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["local_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "prescription", "local_date"], name="one_log_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prescription.exercise} on {self.local_date}"


class GuidedSession(models.Model):
    """One guided session she went through: how each exercise went, and her pain after it.
    The exercises she did are also logged as SessionLog rows, which adherence counts."""

    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="guided_sessions"
    )
    local_date = models.DateField()
    pain_after = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["local_date", "created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(pain_after__lte=10), name="guided_pain_after_0_10"),
        ]

    def __str__(self) -> str:
        return f"Guided session on {self.local_date}"

    @property
    def done_count(self) -> int:
        return sum(1 for e in self.exercises.all() if e.done)

    @property
    def too_hard(self) -> list:
        return [e for e in self.exercises.all() if e.felt == GuidedExercise.Felt.TOO_HARD]


class GuidedExercise(models.Model):
    class Felt(models.TextChoices):
        EASY = "easy", "Easy"
        RIGHT = "right", "About right"
        TOO_HARD = "too_hard", "Too hard"

    session = models.ForeignKey(GuidedSession, on_delete=models.CASCADE, related_name="exercises")
    # Restricted, as SessionLog.prescription is: her guided sessions are her history.
    prescription = models.ForeignKey(Prescription, on_delete=models.RESTRICT, related_name="guided")
    done = models.BooleanField()
    felt = models.CharField(max_length=10, choices=Felt, blank=True)

    class Meta:
        ordering = ["session", "prescription__stage__position", "prescription__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "prescription"], name="guided_exercise_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prescription.exercise}: {'done' if self.done else 'skipped'}"


def _save_marked(instance, save, args, kwargs) -> None:
    """Save a row whose emails are planned ahead, marked to be planned again (its
    planned_until emptied), even when only some fields are saved."""
    marked = ["planned_until"]
    instance.planned_until = None
    if isinstance(instance, Enrolment):
        instance.version = new_version()
        marked.append("version")
    if kwargs.get("update_fields") is not None:
        kwargs["update_fields"] = {*kwargs["update_fields"], *marked}
    save(*args, **kwargs)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _duration(seconds: int) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} s"


class Hold(models.Model):
    """A red flag from a check-in: no new stages until a coach or staff member clears it."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="holds")
    tier = models.PositiveSmallIntegerField(choices=[(1, "See a clinician"), (2, "Urgent")])
    checkin = models.ForeignKey(
        "CheckIn", on_delete=models.SET_NULL, null=True, blank=True, related_name="holds"
    )
    started_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Someone who can act has seen the alert: separate from clearing the hold, which waits
    # until she has been seen and it is safe to go on.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=Q(cleared_at__isnull=True),
                name="one_open_hold_per_enrolment",
            ),
            models.CheckConstraint(condition=Q(tier__in=[1, 2]), name="hold_tier_1_or_2"),
        ]

    def __str__(self) -> str:
        return f"Tier {self.tier} hold from {self.started_at:%Y-%m-%d %H:%M} UTC"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class CheckIn(models.Model):
    """Her answers to one weekly check-in. Health data: only she, her coach and staff see it."""

    class Felt(models.TextChoices):
        TOO_EASY = "too_easy", "Too easy"
        RIGHT = "right", "About right"
        TOO_HARD = "too_hard", "Too hard"
        NOT_DONE = "not_done", "I didn't do them this week"

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="checkins")
    week = models.PositiveSmallIntegerField(help_text="The program week the answers are about.")
    submitted_at = models.DateTimeField()
    pain = models.PositiveSmallIntegerField(validators=[MaxValueValidator(10)])
    pain_sites = models.JSONField(default=list, blank=True)
    warning_signs = models.JSONField(default=list, blank=True)
    urgent_signs = models.JSONField(default=list, blank=True)
    sessions_felt = models.CharField(max_length=10, choices=Felt)
    note = models.TextField(blank=True, max_length=2000)
    tier = models.PositiveSmallIntegerField(default=0)
    # Set when she changes her answers for the same week.
    updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["submitted_at"]
        constraints = [
            models.CheckConstraint(condition=Q(pain__lte=10), name="checkin_pain_0_10"),
        ]
        indexes = [models.Index(fields=["enrolment", "submitted_at"])]

    def __str__(self) -> str:
        return f"Check-in for week {self.week}"


class Notification(models.Model):
    """
    One email in the outbox. The row is the truth about whether it went out: planning creates
    it, a dispatcher claims it for a lease, and it is marked sent as soon as the mail server
    accepts it. Unique per (enrolment, kind, key), so nothing is planned or sent twice.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    enrolment = models.ForeignKey(
        Enrolment,
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
        # The indexes below that begin with it serve every lookup by enrolment; one of its own
        # would be one more index to write at every claim and receipt.
        db_index=False,
        help_text="Empty for a coach's daily digest, which covers all her clients.",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        null=True,
        blank=True,
        help_text="Empty for an email to an address with no account (the clinic's alerts).",
    )
    address = models.EmailField(
        blank=True, help_text="Where it goes when there is no recipient account."
    )
    kind = models.CharField(max_length=20, choices=notifications.choices())
    key = models.CharField(max_length=40, help_text="Her local date, program week or stage.")
    scheduled_for = models.DateTimeField(help_text="When planning wants it sent.")
    due_at = models.DateTimeField(
        help_text="The next attempt: scheduled_for, or later after a retry."
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The email as rendered shortly before it falls due (programs.preparation), the address it
    # was rendered for, and her enrolment's version then; emptied once the row is sent.
    prepared = models.BinaryField(null=True, editable=False)
    prepared_to = models.EmailField(blank=True, editable=False)
    prepared_version = models.BigIntegerField(null=True, editable=False)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment", "kind", "key"], name="one_notification_per_key"
            ),
            models.UniqueConstraint(
                fields=["recipient", "kind", "key"],
                condition=Q(enrolment__isnull=True),
                name="one_personal_notification_per_key",
            ),
            models.CheckConstraint(
                condition=Q(recipient__isnull=False) | ~Q(address=""),
                name="notification_has_recipient_or_address",
            ),
        ]
        indexes = [
            # Finding due work stays fast however much history piles up: only live rows are
            # in this index.
            models.Index(
                fields=["due_at"],
                name="notification_live_due",
                condition=Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["enrolment", "status"]),
            # The status page's "failed in the last 24 hours".
            models.Index(
                fields=["due_at"], name="notification_failed_due", condition=Q(status="failed")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key} ({self.status})"

    @property
    def to_address(self) -> str:
        """Where it goes now: her account's address, or the address stored for a row with no
        account behind it (the clinic's)."""
        return self.recipient.email if self.recipient else self.address

    def prepared_message(self) -> bytes | None:
        """The email prepared ahead, if it still holds: rendered under her enrolment's current
        version, for the address she has now."""
        if self.prepared is None or self.enrolment is None:
            return None
        if self.prepared_version != self.enrolment.version or self.prepared_to != self.to_address:
            return None
        return bytes(self.prepared)

    @property
    def spec(self) -> notifications.Kind:
        return notifications.kind(self.kind)


class ClientStatus(models.Model):
    """Her row on the coach's dashboard as it stands (`programs.standing`), kept current by
    `programs.client_status`: on every event that changes it, in the same transaction (the
    receivers of `programs.effects`), and at `rolls_over_at` by the periodic roll-over. Derived
    data: `manage.py rebuild_client_status` rebuilds it all."""

    enrolment = models.OneToOneField(
        Enrolment, on_delete=models.CASCADE, primary_key=True, related_name="standing"
    )
    computed_at = models.DateTimeField()
    local_date = models.DateField(help_text="Her local date when it was computed.")
    rolls_over_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When time alone changes it next (UTC); empty once it changes nothing more "
        "(a week after her program ended, or once she left).",
    )
    week = models.PositiveSmallIntegerField()
    started = models.BooleanField()
    finished = models.BooleanField()
    progress_percent = models.PositiveSmallIntegerField()
    recent_done = models.PositiveIntegerField()  # the last 7 days
    recent_expected = models.PositiveIntegerField()
    recent_percent = models.PositiveSmallIntegerField()
    overall_done = models.PositiveIntegerField()
    overall_expected = models.PositiveIntegerField()
    overall_percent = models.PositiveSmallIntegerField()
    last_activity = models.DateField(null=True)
    last_pain = models.PositiveSmallIntegerField(null=True)
    pains = models.JSONField(default=list)  # check-in pain scores, oldest first
    # One column per stored flag (programs.coaching.Flag values); reminders failing is read
    # from the outbox when shown.
    urgent = models.BooleanField(default=False)
    hold = models.BooleanField(default=False)
    pain_up = models.BooleanField(default=False)
    strain = models.BooleanField(default=False)
    idle = models.BooleanField(default=False)
    broken = models.BooleanField(default=False)
    # The flags as bits, most urgent highest (programs.standing.rank), for "flagged first";
    # and the same for the flags that say nothing about her body, for viewers who may not see
    # her health data.
    rank = models.PositiveSmallIntegerField(default=0)
    neutral_rank = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name_plural = "client statuses"
        indexes = [
            models.Index(fields=["rolls_over_at"], name="clientstatus_rolls_over"),
            models.Index(fields=["rank"], name="clientstatus_rank"),
        ]

    def __str__(self) -> str:
        return f"Status of enrolment {self.enrolment_id} on {self.local_date}"

    @property
    def flags(self) -> tuple:
        """Her stored flags, most urgent first."""
        return tuple(flag for flag in standing.STORED_FLAGS if getattr(self, flag.value))


class CoachProfile(models.Model):
    """A coach's own clock and digest settings."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coach_profile"
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[zones.validate_zone])
    digest_time = models.TimeField("Daily digest at", default=time(7, 30))
    email_digest = models.BooleanField(
        "Email me a daily digest when a client is flagged", default=True
    )
    # As on Enrolment: her digests are planned up to here; empty means plan them now.
    planned_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        indexes = [models.Index(fields=["planned_until"], name="coachprofile_plan_due")]

    def __str__(self) -> str:
        return f"Coach profile of {self.user}"

    def save(self, *args, **kwargs):
        _save_marked(self, super().save, args, kwargs)
        wakeups.replan_digests_on_commit(self.user_id)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class StageOverride(models.Model):
    """Her coach opened a stage before its week, or keeps one closed after it."""

    class Action(models.TextChoices):
        OPEN = "open", "Opened early"
        HOLD = "hold", "Held"

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="overrides")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=4, choices=Action)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "stage"], name="one_override_per_stage"),
        ]

    def __str__(self) -> str:
        return f"{self.stage.title}: {self.get_action_display()}"


class Tailoring(models.Model):
    """One change her coach made to what a stage asks of her, in force from `made_at`: the
    program's (or an earlier tailored) prescription `replaces` comes off her list and her own
    `prescription` goes on. `programs.tailoring` makes them; nothing edits one afterwards, so
    her past days keep what was prescribed on them."""

    class Kind(models.TextChoices):
        DOSE = "dose", "Changed the dose"
        SWAP = "swap", "Swapped the exercise"
        ADD = "add", "Added an exercise"
        REMOVE = "remove", "Removed an exercise"

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="tailorings")
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=6, choices=Kind)
    # Restricted: deleting the program's exercise would silently undo her coach's change;
    # deleting her enrolment takes her changes with it.
    replaces = models.ForeignKey(
        Prescription, on_delete=models.RESTRICT, null=True, blank=True, related_name="+"
    )
    prescription = models.ForeignKey(
        Prescription, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    made_at = models.DateTimeField()
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["made_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(replaces__isnull=False) | Q(prescription__isnull=False),
                name="tailoring_changes_something",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.made_at:%Y-%m-%d %H:%M} UTC"

    @property
    def summary(self) -> str:
        """The change in words, for her and her coach: exercises and doses, nothing more."""
        old, new = self.replaces, self.prescription
        match self.kind:
            case self.Kind.DOSE:
                return (
                    f"{new.exercise.name}: {new.dose}, {new.frequency} "
                    f"(was {old.dose}, {old.frequency})"
                )
            case self.Kind.SWAP:
                return (
                    f"{new.exercise.name} instead of {old.exercise.name}: "
                    f"{new.dose}, {new.frequency}"
                )
            case self.Kind.ADD:
                return (
                    f"{new.exercise.name} added to {self.stage.title}: {new.dose}, {new.frequency}"
                )
            case _:
                return f"{old.exercise.name} taken out of {self.stage.title}"

    def change(self) -> schedule.Change:
        """As the schedule reads it. Uses the prefetched prescription and its exercise."""
        p = self.prescription
        spec = None
        if p is not None:
            spec = schedule.PrescriptionSpec(p.pk, p.days_per_week, lifting=p.exercise.lifting)
        return schedule.Change(self.stage_id, self.made_at, self.replaces_id, spec)


class ProgramMove(models.Model):
    """Her coach moved her from one program to another at `moved_at`. Her start date, sessions,
    check-ins and messages stay; her days before the move keep the old program's stages."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="moves")
    from_program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    to_program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+")
    moved_at = models.DateTimeField()
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["moved_at", "pk"]

    def __str__(self) -> str:
        return f"{self.from_program} to {self.to_program} at {self.moved_at:%Y-%m-%d %H:%M} UTC"


class CoachAction(models.Model):
    """Something a coach did for a client: who, what and when, for her timeline."""

    class Kind(models.TextChoices):
        PAUSED = "paused", "Paused her program"
        RESUMED = "resumed", "Resumed her program"
        CLEARED_HOLD = "cleared_hold", "Cleared the red-flag hold"
        OPENED_STAGE = "opened_stage", "Opened a stage early"
        HELD_STAGE = "held_stage", "Held a stage"
        RELEASED_STAGE = "released_stage", "Released a stage"
        NOTE = "note", "Private note"
        ACKNOWLEDGED = "acknowledged", "Acknowledged the alert"
        REMOVED_COACH = "removed_coach", "She removed her coach"
        TAILORED = "tailored", "Tailored her exercises"
        MOVED_START = "moved_start", "Moved her start date"
        MOVED_PROGRAM = "moved_program", "Moved her to another program"

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="actions")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind)
    detail = models.TextField(blank=True, max_length=4000)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["enrolment", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.at:%Y-%m-%d %H:%M} UTC"

    @classmethod
    def record(cls, enrolment, actor, kind: str, at: datetime, detail: str = "") -> CoachAction:
        """What `actor` did for her, for her timeline."""
        return cls.objects.create(enrolment=enrolment, actor=actor, kind=kind, detail=detail, at=at)


class Message(models.Model):
    """One message in the thread between her and her coach: one thread per enrolment
    (`programs.conversation`). What they write may be about her body, so it is treated as health
    data: never emailed, logged or put in a URL."""

    class Side(models.TextChoices):
        CLIENT = "client", "Her"
        COACH = "coach", "Her coach"

    MAX_LENGTH = 4000  # as a coach's emailed messages were; the check constraint repeats it

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="messages")
    # Kept apart from the author: a message stays hers or her coach's after either account or
    # the coach assignment changes.
    side = models.CharField(max_length=6, choices=Side)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(max_length=MAX_LENGTH)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="message_not_empty"),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), 4000), name="message_max_length"
            ),
            models.CheckConstraint(condition=Q(side__in=["client", "coach"]), name="message_side"),
        ]
        indexes = [models.Index(fields=["enrolment", "side"])]

    def __str__(self) -> str:
        return f"Message {self.pk} from {self.get_side_display().lower()}"


class ThreadRead(models.Model):
    """How far one side of her thread has read: every message up to the id `up_to`. Ids, not
    times, so that two messages in the same instant are never taken for one."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="thread_reads")
    side = models.CharField(max_length=6, choices=Message.Side)
    up_to = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "side"], name="one_read_mark_per_side"),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} read up to message {self.up_to}"


class Invitation(models.Model):
    """A coach invites a new client by email to one program."""

    coach = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="invitations"
    )
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    created_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation to {self.email}"


class Heartbeat(models.Model):
    """When a periodic job last ran and what it did, for the status page (/status/)."""

    job = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    seconds = models.FloatField()
    detail = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.job} at {self.finished_at:%Y-%m-%d %H:%M:%S} UTC"

    @classmethod
    def record(cls, job: str, started_at: datetime, finished_at: datetime, **detail) -> None:
        cls.objects.update_or_create(
            job=job,
            defaults={
                "started_at": started_at,
                "finished_at": finished_at,
                "seconds": (finished_at - started_at).total_seconds(),
                "detail": detail,
            },
        )


# Re-planning. A change to anything her emails depend on marks her for planning in the same
# transaction, and asks a worker to plan her as soon as it commits; the periodic sweep
# (programs.planning) picks up whatever that request misses. Enrolment.save() covers edits of
# her own row; the receivers of `programs.effects` cover the rows around it, from views, the
# admin or anywhere else.


def new_version() -> int:
    """A value her enrolment's version has almost surely never held: random, not counted up, so
    two changes saved at once from the same stale copy still differ from what came before."""
    return secrets.randbits(62)


def mark_for_planning(enrolment_ids) -> None:
    """Her (their) planned emails are out of date: plan again now."""
    ids = [pk for pk in enrolment_ids if pk is not None]
    if not ids:
        return
    Enrolment.objects.filter(pk__in=ids).update(planned_until=None, version=new_version())
    for pk in ids:
        wakeups.replan_on_commit(pk)
