from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.http import Http404
from django.shortcuts import redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from programs import checkins, media, variants
from programs.forms import TimeZoneField, offer_current_zone
from programs.models import (
    CheckIn,
    CoachProfile,
    Enrolment,
    Exercise,
    GuidedExercise,
    GuidedSession,
    Hold,
    Notification,
    Pause,
    Prescription,
    Program,
    ProgramMove,
    SessionLog,
    Stage,
    Tailoring,
)


class StageInline(admin.StackedInline):
    model = Stage
    extra = 0
    fields = [
        ("position", "unlock_week"),
        ("title", "slug"),
        "goal",
        "description",
        ("open_before_clearance", "ongoing"),
    ]
    prepopulated_fields = {"slug": ["title"]}
    show_change_link = True


class PrescriptionInline(admin.TabularInline):
    model = Prescription
    extra = 0
    autocomplete_fields = ["exercise"]
    fields = ["position", "exercise", "sets", "reps", "hold_seconds", "days_per_week", "note"]

    def get_queryset(self, request):
        # The stage's own; those her coach tailored for one woman show on her enrolment.
        return super().get_queryset(request).of_programs()


class CopyProgramForm(forms.Form):
    """The new name and slug of a program's copy."""

    name = forms.CharField(max_length=Program._meta.get_field("name").max_length)
    slug = forms.SlugField(
        max_length=Program._meta.get_field("slug").max_length,
        help_text="The end of its address on the site; no other program may use it.",
    )

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if Program.objects.filter(slug=slug).exists():
            raise ValidationError(
                f'Another program already uses the slug "{slug}": choose another.'
            )
        return slug


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "weeks", "is_published"]
    list_filter = ["is_published"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [StageInline]
    actions = ["copy_as_variant"]

    def get_urls(self):
        copy = path(
            "<path:object_id>/copy/",
            self.admin_site.admin_view(self.copy_view),
            name="programs_program_copy",
        )
        return [copy, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_copy": self.has_copy_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    def has_copy_permission(self, request) -> bool:
        # A copy adds rows of all three models.
        return request.user.has_perms(
            ["programs.add_program", "programs.add_stage", "programs.add_prescription"]
        )

    @admin.action(description="Copy as a variant", permissions=["copy"])
    def copy_as_variant(self, request, queryset):
        count = queryset.count()
        if count != 1:
            self.message_user(
                request,
                f"Select exactly one program to copy ({count} selected). Nothing was copied.",
                messages.WARNING,
            )
            return None
        return redirect("admin:programs_program_copy", queryset.get().pk)

    def copy_view(self, request, object_id):
        """Ask for the copy's name and slug, then copy the program and open the copy."""
        program = self.get_object(request, unquote(object_id))
        if program is None:
            raise Http404("No such program.")
        if not self.has_copy_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = CopyProgramForm(request.POST)
        else:
            initial = {"name": f"{program.name} (copy)", "slug": variants.free_slug(program)}
            form = CopyProgramForm(initial=initial)
        if form.is_valid():
            try:
                copy = variants.copy_program(program, **form.cleaned_data)
            except ValidationError as error:  # the slug was taken since the form checked it
                form.add_error(None, error)
            else:
                self._copied(request, program, copy)
                return redirect("admin:programs_program_change", copy.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Copy {program} as a variant",
            "opts": self.opts,
            "original": program,
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/programs/program/copy.html", context)

    def _copied(self, request, program, copy) -> None:
        # Counted from the copy's rows, so the message says what was made.
        stages = copy.stages.count()
        prescriptions = variants.program_prescriptions(copy).count()
        self.log_addition(request, copy, f"Copied from {program} ({program.slug}).")
        self.message_user(
            request,
            f'Copied "{program}" as "{copy}": {stages} stage{pluralize(stages)} '
            f"and {prescriptions} prescription{pluralize(prescriptions)}. It is unpublished "
            "until you publish it.",
            messages.SUCCESS,
        )


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["title", "program", "position", "unlock_week", "open_before_clearance"]
    list_filter = ["program"]
    list_select_related = ["program"]
    search_fields = ["title"]
    inlines = [PrescriptionInline]


class ExerciseAdminForm(forms.ModelForm):
    """An exercise, with its own picture or video checked as it is uploaded."""

    video_url = forms.URLField(
        label="Video URL", required=False, max_length=200, assume_scheme="https"
    )

    class Meta:
        model = Exercise
        fields = [
            "name",
            "slug",
            "instructions",
            "cues",
            "stop_if",
            "timing",
            "lifting",
            "media",
            "media_description",
            "video_url",
        ]
        widgets = {"media": forms.ClearableFileInput(attrs={"accept": media.ACCEPT})}

    def clean_media(self):
        upload = self.cleaned_data.get("media")
        if isinstance(upload, UploadedFile):  # not a file kept from before, nor a cleared one
            media.check_upload(upload)
        return upload

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("media") and not cleaned.get("media_description", "").strip():
            self.add_error(
                "media_description", "Say in a sentence what the picture or video shows."
            )
        return cleaned


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    form = ExerciseAdminForm
    list_display = ["name", "timing"]
    list_filter = ["timing"]
    search_fields = ["name", "slug", "instructions", "cues"]
    prepopulated_fields = {"slug": ["name"]}


class ZoneAdminForm(forms.ModelForm):
    """
    The time zone as the same grouped list her own forms show, so staff cannot type a zone
    planning cannot load; the model's validators refuse a bad zone or date as well.
    """

    timezone = TimeZoneField(label="Time zone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        offer_current_zone(self)


class PauseInline(admin.TabularInline):
    model = Pause
    extra = 0


class TailoringInline(admin.TabularInline):
    """Her coach's changes, to read: they are made on her tailoring page, so that each is a
    recorded coach action applied from its instant."""

    model = Tailoring
    extra = 0
    can_delete = False
    fields = ["made_at", "made_by", "kind", "summary"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ProgramMoveInline(TailoringInline):
    model = ProgramMove
    fields = ["moved_at", "moved_by", "from_program", "to_program"]
    readonly_fields = fields


class PlanningFailed(admin.SimpleListFilter):
    title = "planning"
    parameter_name = "planning"

    def lookups(self, request, model_admin):
        return [("failed", "Failed (see the error on each)")]

    def queryset(self, request, queryset):
        if self.value() == "failed":
            return queryset.exclude(plan_error="")
        return queryset


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    form = ZoneAdminForm
    list_display = ["user", "program", "coach", "status", "start_date", "timezone"]
    list_filter = ["status", PlanningFailed, "program"]
    readonly_fields = ["planned_until", "plan_error", "plan_failed_at"]
    list_select_related = ["user", "program", "coach"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["coach"]
    inlines = [PauseInline, TailoringInline, ProgramMoveInline]

    def get_readonly_fields(self, request, obj=None):
        # Another program for an enrolment already running is a move, with its history kept:
        # her coach makes it from "Tailor her program".
        fields = super().get_readonly_fields(request, obj)
        return [*fields, "program"] if obj is not None else fields


@admin.register(CoachProfile)
class CoachProfileAdmin(admin.ModelAdmin):
    form = ZoneAdminForm
    list_display = ["user", "timezone", "digest_time", "email_digest"]
    list_filter = ["email_digest"]
    list_select_related = ["user"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]


@admin.register(SessionLog)
class SessionLogAdmin(admin.ModelAdmin):
    list_display = ["enrolment", "prescription", "local_date"]
    list_select_related = ["enrolment__user", "prescription__exercise"]
    raw_id_fields = ["enrolment", "prescription"]
    date_hierarchy = "local_date"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["kind", "key", "recipient", "status", "scheduled_for", "attempts", "sent_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__email"]
    raw_id_fields = ["enrolment", "recipient"]
    readonly_fields = ["claim", "claimed_until", "sent_at", "last_error", "created_at"]
    date_hierarchy = "scheduled_for"
    actions = ["retry_now"]

    @admin.action(description="Send again now (failed or cancelled rows)")
    def retry_now(self, request, queryset):
        count = queryset.filter(status__in=["failed", "cancelled"]).update(
            status="pending", due_at=timezone.now(), attempts=0, last_error=""
        )
        self.message_user(request, f"{count} notification(s) queued again.")


@admin.register(Hold)
class HoldAdmin(admin.ModelAdmin):
    list_display = ["enrolment", "tier", "started_at", "cleared_at", "cleared_by"]
    list_filter = ["tier", ("cleared_at", admin.EmptyFieldListFilter)]
    list_select_related = ["enrolment__user", "enrolment__program", "cleared_by"]
    raw_id_fields = ["enrolment", "checkin"]
    readonly_fields = ["cleared_by"]
    actions = ["clear"]

    @admin.action(description="Clear the selected holds")
    def clear(self, request, queryset):
        cleared = 0
        for hold in queryset.filter(cleared_at__isnull=True).select_related("enrolment"):
            checkins.clear_hold(hold.enrolment, request.user, timezone.now())
            cleared += 1
        self.message_user(request, f"{cleared} hold(s) cleared.")


class GuidedExerciseInline(admin.TabularInline):
    model = GuidedExercise
    extra = 0
    raw_id_fields = ["prescription"]


@admin.register(GuidedSession)
class GuidedSessionAdmin(admin.ModelAdmin):
    """Her guided sessions, as she recorded them (health data: her pain after the session)."""

    list_display = ["enrolment", "local_date", "pain_after", "created_at"]
    list_select_related = ["enrolment__user", "enrolment__program"]
    raw_id_fields = ["enrolment"]
    date_hierarchy = "local_date"
    inlines = [GuidedExerciseInline]


@admin.register(CheckIn)
class CheckInAdmin(admin.ModelAdmin):
    list_display = ["enrolment", "week", "submitted_at", "pain", "tier"]
    list_filter = ["tier"]
    list_select_related = ["enrolment__user", "enrolment__program"]
    raw_id_fields = ["enrolment"]
