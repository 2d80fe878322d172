import functools

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce

from programs import conversation, roles
from programs.models import Enrolment


def site(request):
    """Names and numbers every page may show."""
    # A coach page has asked whether she is a coach already (`coach_required`).
    coach = getattr(request, "coaches", None)
    header = functools.cache(lambda: header_links(request.user, coach))
    return {
        "site_name": settings.SITE_NAME,
        "emergency_number": settings.EMERGENCY_NUMBER,
        "urgent_advice_line": settings.URGENT_ADVICE_LINE,
        "crisis_line": settings.CRISIS_LINE,
        # Called by the template only where it is used (the navigation), not on every render,
        # and then once per request.
        "header": header,
        "is_coach": lambda: header()["coach"],
    }


def header_links(user, coach: bool | None = None) -> dict:
    """Which links the header offers: a coach's (staff count as coaches here), and a
    mother's Today unless she is a coach who is not enrolled herself, with how many of her
    coach's messages she has not read. One query at most; `coach` True, when the view knows
    she is one: one simpler query, and a second only if she is enrolled herself."""
    if not user.is_authenticated:
        return {"coach": False, "today": False, "unread": 0}
    if coach:
        enrolled = Enrolment.objects.filter(user=user, status__in=Enrolment.CURRENT).exists()
        messages = conversation.unread_for_her(user.pk).count() if enrolled else 0
        return {"coach": True, "today": enrolled, "unread": messages}
    mine = Enrolment.objects.filter(user=OuterRef("pk"), status__in=Enrolment.CURRENT)
    coach_group = user.groups.through.objects.filter(
        user=OuterRef("pk"), group__name=roles.COACH_GROUP
    )
    unread = (
        conversation.unread_for_her(OuterRef("pk"))
        .order_by()
        .values("enrolment__user")
        .annotate(n=Count("pk"))
        .values("n")
    )
    coach, enrolled, messages = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .annotate(
            coach=Exists(coach_group),
            enrolled=Exists(mine),
            messages=Coalesce(Subquery(unread), 0),
        )
        .values_list("coach", "enrolled", "messages")
        .get()
    )
    coach = coach or user.is_staff
    return {"coach": coach, "today": enrolled or not coach, "unread": messages}
