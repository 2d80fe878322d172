from django import forms
from django.contrib import admin
from django.db import models

from programs.models import Enrolment, Exercise, Pause, Prescription, Program, SessionLog, Stage


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


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ["name", "weeks", "is_published"]
    list_filter = ["is_published"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [StageInline]


@admin.register(Stage)
class StageAdmin(admin.ModelAdmin):
    list_display = ["title", "program", "position", "unlock_week", "open_before_clearance"]
    list_filter = ["program"]
    list_select_related = ["program"]
    search_fields = ["title"]
    inlines = [PrescriptionInline]


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ["name", "timing"]
    list_filter = ["timing"]
    search_fields = ["name", "slug", "instructions", "cues"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {
        models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"},
    }


class PauseInline(admin.TabularInline):
    model = Pause
    extra = 0


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ["user", "program", "coach", "status", "start_date", "timezone"]
    list_filter = ["status", "program"]
    list_select_related = ["user", "program", "coach"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]
    autocomplete_fields = ["coach"]
    inlines = [PauseInline]


@admin.register(SessionLog)
class SessionLogAdmin(admin.ModelAdmin):
    list_display = ["enrolment", "prescription", "local_date"]
    list_select_related = ["enrolment__user", "prescription__exercise"]
    raw_id_fields = ["enrolment", "prescription"]
    date_hierarchy = "local_date"
