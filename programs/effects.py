"""
What follows a change to her data, decided here once for every view, task, command and the
admin, in the transaction that made the change:
- she is marked for planning (`models.mark_for_planning`) when what her emails depend on
  changed, and a worker plans her as soon as it commits (`programs.wakeups`);
- her dashboard row (`programs.client_status`) is recomputed.
A change to a program marks everyone in it, for the sweep to plan in batches.

Connected by `ProgramsConfig.ready`.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from programs import client_status
from programs.models import (
    CheckIn,
    ClientStatus,
    CoachProfile,
    Enrolment,
    GuidedExercise,
    GuidedSession,
    Hold,
    Pause,
    Prescription,
    Program,
    ProgramMove,
    SessionLog,
    Stage,
    StageOverride,
    Tailoring,
    mark_for_planning,
    new_version,
)


def refresh_standing(enrolment_ids) -> None:
    """Her (their) dashboard row, recomputed now, in the transaction that changed it."""
    ids = [pk for pk in enrolment_ids if pk is not None]
    if ids:
        client_status.refresh(ids, timezone.now())


@receiver(post_save, sender=Enrolment)
def _enrolment_saved(sender, instance, **kwargs):
    # Her own row's edits are marked for planning by Enrolment.save itself.
    refresh_standing([instance.pk])


@receiver(post_save, sender=Pause)
@receiver(post_delete, sender=Pause)
@receiver(post_save, sender=Hold)
@receiver(post_delete, sender=Hold)
@receiver(post_save, sender=StageOverride)
@receiver(post_delete, sender=StageOverride)
@receiver(post_save, sender=SessionLog)
@receiver(post_delete, sender=SessionLog)
@receiver(post_save, sender=CheckIn)
@receiver(post_delete, sender=CheckIn)
@receiver(post_save, sender=GuidedSession)
@receiver(post_delete, sender=GuidedSession)
@receiver(post_save, sender=Tailoring)
@receiver(post_delete, sender=Tailoring)
@receiver(post_save, sender=ProgramMove)
@receiver(post_delete, sender=ProgramMove)
def _her_data_changed(sender, instance, **kwargs):
    if _deleted_with_her(sender, kwargs.get("origin")):
        return
    if sender in SCHEDULE_SOURCES:
        mark_for_planning([instance.enrolment_id])
    refresh_standing([instance.enrolment_id])


# What her emails depend on, besides her enrolment's own row.
SCHEDULE_SOURCES = (Pause, Hold, StageOverride, SessionLog, Tailoring, ProgramMove)


@receiver(post_save, sender=GuidedExercise)
@receiver(post_delete, sender=GuidedExercise)
def _guided_exercise_changed(sender, instance, **kwargs):
    # An exercise found too hard flags her; edited one by one (the admin's inline).
    if not _deleted_with_her(sender, kwargs.get("origin")):
        sessions = GuidedSession.objects.filter(pk=instance.session_id)
        refresh_standing(sessions.values_list("enrolment_id", flat=True))


def _deleted_with_her(sender, origin) -> bool:
    """The row goes because something above it was deleted (her enrolment, her account): there
    is nothing left to plan."""
    return origin is not None and getattr(origin, "model", type(origin)) is not sender


@receiver(post_save, sender=Program)
@receiver(post_save, sender=Stage)
@receiver(post_delete, sender=Stage)
@receiver(post_save, sender=Prescription)
@receiver(post_delete, sender=Prescription)
def _program_changed(sender, instance, **kwargs):
    if sender is Prescription and instance.enrolment_id is not None:
        return  # hers alone: the Tailoring saved with it marks her
    # Everyone in the program: the sweep plans them within a minute, in batches.
    if sender is Program:
        programs = [instance.pk]
    elif sender is Stage:
        programs = [instance.program_id]
    else:
        programs = Stage.objects.filter(pk=instance.stage_id).values("program_id")
    Enrolment.objects.filter(program_id__in=programs, status__in=Enrolment.CURRENT).update(
        planned_until=None, version=new_version()
    )
    # Their dashboard rows too: due now, the roll-over recomputes them within a minute.
    ClientStatus.objects.filter(enrolment__program_id__in=programs).update(
        rolls_over_at=timezone.now()
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def _user_changed(sender, instance, update_fields=None, **kwargs):
    # Active, staff or not: whether she still gets a coach's digest. Logging in saves only
    # last_login, which changes nothing of that.
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    CoachProfile.objects.filter(user_id=instance.pk).update(planned_until=None)


def groups_changed(sender, instance, pk_set=None, reverse=False, **kwargs):
    if kwargs["action"] not in ("post_add", "post_remove", "post_clear"):
        return
    users = list(pk_set or ()) if reverse else [instance.pk]
    CoachProfile.objects.filter(user_id__in=users).update(planned_until=None)


# Joining or leaving the Coaches group decides whether she gets a digest.
m2m_changed.connect(groups_changed, sender=get_user_model().groups.through)


def build_missing_rows(using="default", **kwargs):
    """Once every migration is applied, derived rows for what has none: built by today's code,
    so only against today's tables, never part-way through migrating."""
    executor = MigrationExecutor(connections[using])
    if not executor.migration_plan(executor.loader.graph.leaf_nodes()):
        client_status.build_missing(timezone.now())
