"""Who may see whom, and what.

A coach is a user in the Coaches group and sees her own clients, health data included. Staff
see every client (name, week, adherence) but her health data (check-in answers, pain,
symptoms, holds, notes, what she said when enrolling) only with `programs.view_checkin`: the
permission the Clinical staff group carries, and superusers have. A staff flag alone is an
admin's flag, not a clinician's.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

COACH_GROUP = "Coaches"
CLINICAL_GROUP = "Clinical staff"
HEALTH_PERMISSION = "programs.view_checkin"

# Dashboard flags that say nothing about her body; the others (a hold, pain rising, and any
# added later) are health data.
NEUTRAL_FLAGS = frozenset({"idle", "failing", "broken"})


def is_coach(user) -> bool:
    return user.is_authenticated and user.groups.filter(name=COACH_GROUP).exists()


def coaches(user) -> bool:
    """Whether the coach pages are hers: a coach's, or staff's."""
    return user.is_authenticated and (user.is_staff or is_coach(user))


def make_coach(user) -> None:
    group, _ = Group.objects.get_or_create(name=COACH_GROUP)
    user.groups.add(group)


def make_clinical(user) -> None:
    user.groups.add(ensure_clinical_group())


def ensure_clinical_group() -> Group:
    """The Clinical staff group, with the permission to see health data. Safe to repeat."""
    group, _ = Group.objects.get_or_create(name=CLINICAL_GROUP)
    app_label, codename = HEALTH_PERMISSION.split(".")
    permission = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
    if permission is not None:
        group.permissions.add(permission)
    return group


def create_groups(sender=None, **kwargs) -> None:
    """post_migrate: the groups the project relies on exist after every migrate."""
    Group.objects.get_or_create(name=COACH_GROUP)
    ensure_clinical_group()


def sees_health_data(user, enrolment) -> bool:
    """Her own coach does; other staff only with the permission."""
    return sees_health_data_of(user, enrolment.coach_id)


def sees_health_data_of(user, coach_id: int | None) -> bool:
    """`sees_health_data` of an enrolment whose coach is `coach_id`."""
    if not user.is_authenticated:
        return False
    if coach_id is not None and coach_id == user.pk:
        return True
    return user.has_perm(HEALTH_PERMISSION)


def health_data_condition(user) -> Q:
    """`sees_health_data` as a database condition on enrolments, for lists sorted and
    filtered in SQL."""
    if user.is_authenticated and user.has_perm(HEALTH_PERMISSION):
        return Q(pk__isnull=False)
    return Q(coach_id=user.pk) if user.is_authenticated else Q(pk__in=[])
