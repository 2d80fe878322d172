"""Who may see whom. A coach is a user in the Coaches group; staff see everyone."""

from django.contrib.auth.models import Group

COACH_GROUP = "Coaches"


def is_coach(user) -> bool:
    return user.is_authenticated and user.groups.filter(name=COACH_GROUP).exists()


def make_coach(user) -> None:
    group, _ = Group.objects.get_or_create(name=COACH_GROUP)
    user.groups.add(group)
