"""Forms own their validation: a bad answer gets a message on its field and nothing is saved."""

from __future__ import annotations

import json
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, UserCreationForm
from django.utils import timezone

from programs import notifications, reminders, safety, tailoring, throttling, zones
from programs.models import (
    CheckIn,
    CoachProfile,
    Enrolment,
    Exercise,
    GuidedExercise,
    Invitation,
    Message,
    Prescription,
    Program,
)

User = get_user_model()

YES_NO = [(True, "Yes"), (False, "No")]
LATEST_START = timedelta(days=60)


class TimeZoneField(forms.ChoiceField):
    """
    A time zone from `zones.choices()`, after an empty first option.

    Nothing is pre-chosen for her: a browser that cannot show the zone she holds selects the
    empty option and sends nothing, and she is asked to choose, rather than the first zone in
    the list being saved over hers.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("label", "Your time zone")
        kwargs.setdefault("error_messages", {"required": zones.EMPTY_LABEL + "."})
        # For static/js/enrol.js: the listed name of a zone a browser reports by an old one.
        kwargs.setdefault(
            "widget", forms.Select(attrs={"data-current-names": json.dumps(zones.CURRENT_NAMES)})
        )
        super().__init__(choices=zone_choices(), required=True, **kwargs)


def zone_choices(current: str = "") -> list:
    """The empty option, then every zone she can choose, keeping `current` if it is valid."""
    return [("", zones.EMPTY_LABEL), *zones.choices(current)]


def offer_current_zone(form: forms.ModelForm) -> None:
    """
    Let the form keep the zone its record holds (an older name such as US/Eastern): saving it
    again without touching the zone changes nothing. A zone no longer valid is not offered and
    not pre-selected, so she has to choose one.
    """
    current = form.instance.timezone
    form.fields["timezone"].choices = zone_choices(current)
    if current and not zones.is_valid(current):
        form.initial["timezone"] = ""


class SignupForm(UserCreationForm):
    """A new account, with the email address as the login."""

    email = forms.EmailField(label="Email", max_length=150)
    first_name = forms.CharField(label="First name", max_length=150)

    class Meta:
        model = User
        fields = ("email", "first_name")

    field_order = ["first_name", "email", "password1", "password2"]

    def clean_email(self) -> str:
        # An address that already has an account is not refused here: the form would tell
        # anyone which addresses have one. The view emails that address instead.
        return self.cleaned_data["email"].strip().lower()

    def existing_user(self):
        """The account already made with this address, if any (call once valid)."""
        return User.objects.filter(username__iexact=self.cleaned_data["email"]).first()

    def save(self, commit: bool = True):
        """A new account, inactive until she follows the link emailed to her address."""
        user = super().save(commit=False)
        user.username = self.cleaned_data["email"]
        user.email = self.cleaned_data["email"]
        user.is_active = False
        if commit:
            user.save()
        return user


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's password reset, sending nothing past a few requests an hour for one address or
    one client (programs.throttling); the page after it says the same either way."""

    def save(self, *args, request=None, **kwargs):
        if not throttling.allow("password_reset", self.cleaned_data["email"], request):
            return
        super().save(*args, request=request, **kwargs)


class EmailAuthenticationForm(AuthenticationForm):
    """Django's log-in form, asking for the email address the account was made with."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"] = forms.CharField(
            label="Email",
            max_length=150,
            widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
        )

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class EnrolmentForm(forms.ModelForm):
    """Enrolment in one program. Her time zone decides what "today" and "8:00" mean."""

    timezone = TimeZoneField(help_text="Reminders and unlocks follow this zone's clock.")
    caesarean = forms.TypedChoiceField(
        label="Was your baby born by caesarean?",
        choices=YES_NO,
        coerce=lambda value: value == "True",
        widget=forms.RadioSelect,
    )
    cleared = forms.TypedChoiceField(
        label="Has your midwife, GP or physiotherapist cleared you to exercise?",
        choices=[(True, "Yes, I've been cleared"), (False, "Not yet, or I'm not sure")],
        coerce=lambda value: value == "True",
        widget=forms.RadioSelect,
        help_text="Many places check this around 6 to 8 weeks after birth. "
        "Until you're cleared, only the breathing stage opens.",
    )
    confirm_early = forms.BooleanField(
        label="Yes, my midwife, GP or physiotherapist has already cleared me to exercise.",
        required=False,
    )

    class Meta:
        model = Enrolment
        fields = ["start_date", "timezone", "reminder_time", "weeks_postpartum", "caesarean"]
        labels = {
            "start_date": "Start date",
            "reminder_time": "Daily reminder at",
            "weeks_postpartum": "How many weeks ago was your baby born?",
        }
        help_texts = {
            "start_date": "Week 1 starts at midnight on this day.",
            "reminder_time": "Your local time. You can change it later.",
        }
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "reminder_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "weeks_postpartum": forms.NumberInput(
                attrs={"min": 0, "max": 104, "inputmode": "numeric"}
            ),
        }

    asks_early_confirmation = False

    def __init__(self, *args, user, program, **kwargs):
        self.user = user
        self.program = program
        super().__init__(*args, **kwargs)
        offer_current_zone(self)
        # A date outside the range gets the range as its message, before `clean` compares it
        # with her today.
        self.fields["start_date"].validators.append(zones.validate_date)

    def clean(self):
        cleaned = super().clean()
        start, zone = cleaned.get("start_date"), cleaned.get("timezone")
        if start and zone:
            today = timezone.now().astimezone(ZoneInfo(zone)).date()
            if start < today:
                self.add_error("start_date", f"Choose today ({today:%-d %B}) or a later day.")
            elif start > today + LATEST_START:
                self.add_error("start_date", "Choose a start date within the next 60 days.")
        weeks = cleaned.get("weeks_postpartum")
        if cleaned.get("cleared") and weeks is not None and weeks < EARLY_CLEARANCE_WEEKS:
            # Clearance usually comes at a check 6 to 8 weeks after birth: ask her again.
            self.asks_early_confirmation = True
            if not cleaned.get("confirm_early"):
                self.add_error("confirm_early", early_clearance_message(weeks))
        if Enrolment.objects.filter(
            user=self.user, program=self.program, status__in=Enrolment.CURRENT
        ).exists():
            raise forms.ValidationError("You are already enrolled in this program.")
        return cleaned

    def save(self, commit: bool = True) -> Enrolment:
        enrolment = super().save(commit=False)
        enrolment.user = self.user
        enrolment.program = self.program
        if self.cleaned_data["cleared"]:
            enrolment.cleared_at = timezone.now()
        if commit:
            enrolment.save()
        return enrolment


EARLY_CLEARANCE_WEEKS = 6


def early_clearance_message(weeks: int | None = None) -> str:
    when = (
        f"Your baby was born {weeks} week{'s' if weeks != 1 else ''} ago"
        if weeks is not None
        else "It is less than 6 weeks since your baby was born"
    )
    return (
        f"{when}: clearance to exercise usually comes at a check 6 weeks after birth or later. "
        "If you have already been cleared, tick the box to confirm it. If not, choose "
        '"Not yet": the stages that strengthen and lift wait until 6 weeks after birth anyway.'
    )


class ClearanceForm(forms.Form):
    """She says her clinician cleared her. Earlier than 6 weeks after birth (`early`), she is
    asked to confirm it once more."""

    confirm = forms.BooleanField(
        label="My midwife, GP or physiotherapist has cleared me to exercise.",
        error_messages={"required": "Tick the box to confirm you have been cleared."},
    )

    def __init__(self, *args, early: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.early = early
        if early:
            self.fields["confirm_early"] = forms.BooleanField(
                label="It is less than 6 weeks since my baby was born, and I have been cleared "
                "all the same.",
                error_messages={"required": early_clearance_message()},
            )


class CheckInForm(forms.Form):
    """The weekly check-in. Every question but the note needs an answer, even if it is none.
    The urgent question comes first: what needs help now must not wait behind the others."""

    urgent_signs = forms.MultipleChoiceField(
        label="First: do you have any of these right now?",
        choices=list(safety.URGENT_SIGNS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="If you do, we'll tell you what to do straight away.",
    )
    pain = forms.TypedChoiceField(
        label="How much pain do you have now, from 0 (none) to 10 (the worst imaginable)?",
        # The ends say what they mean inside their own box, so no number is read on its own.
        choices=[(0, "0 none"), *((n, str(n)) for n in range(1, 10)), (10, "10 worst")],
        coerce=int,
        widget=forms.RadioSelect(attrs={"class": "scale"}),
    )
    pain_sites = forms.MultipleChoiceField(
        label="Where is it?",
        choices=list(safety.PAIN_SITES.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Tick any that apply; leave blank if you have no pain.",
    )
    warning_signs = forms.MultipleChoiceField(
        label="Have you had any of these this week?",
        choices=list(safety.WARNING_SIGNS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    sessions_felt = forms.ChoiceField(
        label="How did this week's sessions feel?",
        choices=CheckIn.Felt.choices,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Anything else you'd like your coach to know? (optional)",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        max_length=2000,
        required=False,
    )

    @classmethod
    def initial_from(cls, checkin: CheckIn) -> dict:
        """Her saved answers, to show and change within the week."""
        return {name: getattr(checkin, name) for name in cls.base_fields}


class UrgentReportForm(forms.Form):
    """An urgent sign reported from the "Get help now" page, at any time."""

    urgent_signs = forms.MultipleChoiceField(
        label="Which of these do you have now?",
        choices=list(safety.URGENT_SIGNS.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Tick at least one sign to report it."},
    )


class PreferencesForm(forms.ModelForm):
    """When her reminders come and which ones: a usual time, and for each weekday another
    time or none (stored in `reminder_days` as only what differs from the usual time)."""

    timezone = TimeZoneField(help_text="Reminders and unlocks follow this zone's clock.")

    class Meta:
        model = Enrolment
        # Every switch declared in programs.notifications, in its order.
        fields = [
            "reminder_time",
            "timezone",
            *(p.field for p in notifications.PREFERENCES.values()),
        ]
        labels = {"reminder_time": "Usual reminder time"}
        help_texts = {"reminder_time": "Your local time, on every day you don't change below."}
        widgets = {"reminder_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offer_current_zone(self)
        chosen = self.instance.reminder_days or {}
        for index, name in enumerate(reminders.WEEKDAYS):
            value = chosen.get(str(index), "")
            self.fields[f"day_{index}"] = forms.TimeField(
                label=name,
                required=False,
                initial=value or None,
                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                error_messages={"invalid": f"Enter {name}'s time like 07:30, or leave it empty."},
            )
            self.fields[f"off_{index}"] = forms.BooleanField(
                label=f"No reminder on {name}s", required=False, initial=value is None
            )

    def general_fields(self):
        return [f for f in self if not f.name.startswith(("day_", "off_"))]

    def weekday_rows(self):
        return [(self[f"day_{i}"], self[f"off_{i}"]) for i in range(len(reminders.WEEKDAYS))]

    def clean(self):
        cleaned = super().clean()
        usual = cleaned.get("reminder_time")
        days: dict[str, str | None] = {}
        for index, name in enumerate(reminders.WEEKDAYS):
            at, off = cleaned.get(f"day_{index}"), cleaned.get(f"off_{index}")
            if at is not None and off:
                self.add_error(
                    f"day_{index}", f"Choose a time or no reminder for {name}, not both."
                )
            elif off:
                days[str(index)] = None
            elif at is not None and at != usual:
                days[str(index)] = at.strftime("%H:%M")
        self.reminder_days = days
        return cleaned

    def save(self, commit=True):
        self.instance.reminder_days = self.reminder_days
        return super().save(commit)


class CoachNoteForm(forms.Form):
    text = forms.CharField(
        label="Private note",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 4000}),
        max_length=4000,
        help_text="Only coaches and staff see notes.",
        error_messages={"required": "Write something to save a note."},
    )


class MessageForm(forms.Form):
    """A message in her thread, from her or from her coach."""

    text = forms.CharField(
        label="Message",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": Message.MAX_LENGTH}),
        max_length=Message.MAX_LENGTH,
        error_messages={
            "required": "Write a message to send.",
            "max_length": "A message can be at most %(limit_value)d characters; "
            "this one has %(show_value)d. Nothing was sent.",
        },
    )


class ChosenClientsField(forms.ModelMultipleChoiceField):
    """Clients chosen by id among `queryset`. An id no database column could hold is refused
    like any id that is not one of them, before it reaches the database."""

    def clean(self, value):
        if isinstance(value, list | tuple):
            for pk in value:
                if not (isinstance(pk, str) and pk.isdigit() and int(pk) < 2**63):
                    raise forms.ValidationError(
                        self.error_messages["invalid_pk_value"],
                        code="invalid_pk_value",
                        params={"pk": pk},
                    )
        return super().clean(value)


class BulkPauseForm(forms.Form):
    """Clients chosen on the dashboard, all of them the coach's own (`enrolments`): one that
    is not refuses the whole form, so nothing is paused."""

    clients = ChosenClientsField(
        queryset=Enrolment.objects.none(),
        error_messages={
            "required": "Choose the clients to pause.",
            "invalid_choice": "One of the chosen clients is not yours. Nothing was paused.",
            "invalid_pk_value": "One of the chosen clients is not yours. Nothing was paused.",
        },
    )

    def __init__(self, *args, enrolments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clients"].queryset = enrolments


class BulkMessageForm(MessageForm):
    """One message for each client chosen on the dashboard, all of them the coach's own
    (`enrolments`): one that is not refuses the whole form, so nothing is sent."""

    clients = ChosenClientsField(
        queryset=Enrolment.objects.none(),
        error_messages={
            "required": "Choose the clients to message.",
            "invalid_choice": "One of the chosen clients is not yours. No message was sent.",
            "invalid_pk_value": "One of the chosen clients is not yours. No message was sent.",
        },
    )

    def __init__(self, *args, enrolments, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clients"].queryset = enrolments
        self.fields["text"].label = "Message to the chosen clients"


class GuidedSessionForm(forms.Form):
    """The end of a guided session: for each exercise due today, done or skipped and how it
    felt (needed when done), then her pain after the session if she wants to give it."""

    pain_after = forms.TypedChoiceField(
        label="Your pain now, from 0 (none) to 10 (the worst imaginable) (optional)",
        choices=[("", "Rather not say")] + [(n, str(n)) for n in range(11)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "scale"}),
    )

    def __init__(self, *args, prescriptions, **kwargs):
        super().__init__(*args, **kwargs)
        self.prescriptions = list(prescriptions)
        pain = self.fields.pop("pain_after")  # asked last, after her exercises
        for p in self.prescriptions:
            self.fields[f"done_{p.pk}"] = forms.TypedChoiceField(
                label=f"{p.exercise.name}: did you do it?",
                choices=[("1", "Done"), ("0", "Skipped")],
                coerce=lambda value: value == "1",
                widget=forms.RadioSelect,
                error_messages={
                    "required": f"Say whether you did {p.exercise.name} or skipped it."
                },
            )
            self.fields[f"felt_{p.pk}"] = forms.ChoiceField(
                label=f"How did {p.exercise.name} feel?",
                choices=GuidedExercise.Felt.choices,
                widget=forms.RadioSelect,
                required=False,
            )
        self.fields["pain_after"] = pain

    def exercise_fields(self):
        """(prescription, done field, felt field) for the template, in her list's order."""
        return [(p, self[f"done_{p.pk}"], self[f"felt_{p.pk}"]) for p in self.prescriptions]

    def clean(self):
        cleaned = super().clean()
        for p in self.prescriptions:
            if cleaned.get(f"done_{p.pk}") and not cleaned.get(f"felt_{p.pk}"):
                self.add_error(f"felt_{p.pk}", f"Say how {p.exercise.name} felt.")
        return cleaned

    def results(self) -> list[tuple]:
        """(prescription, done, felt) for each exercise; felt is blank when skipped."""
        data = self.cleaned_data
        return [
            (p, data[f"done_{p.pk}"], data[f"felt_{p.pk}"] if data[f"done_{p.pk}"] else "")
            for p in self.prescriptions
        ]


class StageOverrideForm(forms.Form):
    stage = forms.TypedChoiceField(label="Stage", coerce=int)
    action = forms.ChoiceField(
        label="Do",
        choices=[
            ("open", "Open it now"),
            ("hold", "Keep it closed"),
            ("release", "Back to its normal week"),
        ],
    )

    def __init__(self, *args, stages, **kwargs):
        super().__init__(*args, **kwargs)
        self.stages = {stage.pk: stage for stage in stages}
        self.fields["stage"].choices = [
            (stage.pk, f"Week {stage.unlock_week}: {stage.title}") for stage in stages
        ]

    def clean_stage(self):
        return self.stages[self.cleaned_data["stage"]]


class DoseForm(forms.Form):
    """One exercise and its dose, as her coach tailors it (`programs.tailoring.Dose`)."""

    exercise = forms.ModelChoiceField(
        label="Exercise", queryset=Exercise.objects.order_by("name"), empty_label=None
    )
    sets = forms.IntegerField(label="Sets", min_value=1, max_value=10)
    reps = forms.IntegerField(label="Reps", min_value=1, max_value=100, required=False)
    hold_seconds = forms.IntegerField(
        label="Hold (seconds)", min_value=1, max_value=600, required=False
    )
    days_per_week = forms.IntegerField(label="Days a week", min_value=1, max_value=7)
    note = forms.CharField(
        label="Note",
        max_length=160,
        required=False,
        help_text='e.g. "each side". She sees it on her Today page; her emails leave it out.',
    )

    def __init__(self, *args, prescription=None, exercise_choices=None, **kwargs):
        """`exercise_choices` (from `exercise_choices()`): the exercises to offer, loaded once
        for a page of these forms rather than once by each."""
        if prescription is not None:
            kwargs.setdefault(
                "initial",
                {
                    "exercise": prescription.exercise_id,
                    "sets": prescription.sets,
                    "reps": prescription.reps,
                    "hold_seconds": prescription.hold_seconds,
                    "days_per_week": prescription.days_per_week,
                    "note": prescription.note,
                },
            )
        super().__init__(*args, **kwargs)
        if exercise_choices is not None:
            self.fields["exercise"].choices = exercise_choices

    @classmethod
    def exercise_choices(cls) -> list[tuple[int, str]]:
        field = cls.base_fields["exercise"]
        return [(e.pk, field.label_from_instance(e)) for e in field.queryset.all()]

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            Prescription.check_amount(cleaned.get("reps"), cleaned.get("hold_seconds"))
        return cleaned

    def dose(self):
        data = self.cleaned_data
        return tailoring.Dose(
            data["exercise"],
            data["sets"],
            data["reps"],
            data["hold_seconds"],
            data["days_per_week"],
            data["note"],
        )


class StartDateForm(forms.Form):
    start_date = forms.DateField(
        label="Her start date",
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[zones.validate_date],
        help_text="Week 1 begins at midnight of this day, her time.",
    )


class MoveProgramForm(forms.Form):
    program = forms.ModelChoiceField(
        label="Move her to",
        queryset=Program.objects.none(),
        help_text="Her start date, sessions, check-ins and messages stay. Back in a program "
        "she followed before, the changes made for her in it apply again.",
    )

    def __init__(self, *args, enrolment, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = (
            Program.objects.filter(is_published=True)
            .exclude(pk=enrolment.program_id)
            .order_by("name")
        )


class InvitationForm(forms.ModelForm):
    """A coach invites a new client, by email, to one published program."""

    class Meta:
        model = Invitation
        fields = ["email", "program"]
        labels = {"email": "Her email address", "program": "Program"}
        help_texts = {"email": "We email her a link to sign up. It works for 14 days."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.filter(is_published=True)
        self.fields["program"].empty_label = None

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class CoachSettingsForm(forms.ModelForm):
    """A coach's clock and her daily digest."""

    timezone = TimeZoneField(help_text="Your daily digest follows this zone's clock.")

    class Meta:
        model = CoachProfile
        fields = ["timezone", "digest_time", "email_digest"]
        help_texts = {
            "digest_time": "Your local time.",
            "email_digest": "It says how many clients are flagged, never who or why.",
        }
        widgets = {"digest_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offer_current_zone(self)


class MonthForm(forms.Form):
    """?month=YYYY-MM on her progress page: a month from her start to this one, in her zone.
    Without one, this month."""

    month = forms.RegexField(
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        required=False,
        error_messages={"invalid": "a month is written like 2026-03."},
    )

    def __init__(self, data, *, earliest, latest):
        super().__init__(data)
        self.earliest = earliest.replace(day=1)
        self.latest = latest.replace(day=1)

    @property
    def first(self) -> date:
        """The month to show: the one asked for when valid, else this one."""
        return self.cleaned_data["month"] if self.is_valid() else self.latest

    def clean_month(self):
        value = self.cleaned_data["month"]
        if not value:
            return self.latest
        year, month = (int(part) for part in value.split("-"))
        first = date(year, month, 1)
        if not self.earliest <= first <= self.latest:
            raise forms.ValidationError("there is nothing to show for that month.")
        return first
