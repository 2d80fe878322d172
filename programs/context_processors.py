from django.conf import settings

from programs import roles


def site(request):
    """Names and numbers every page may show."""
    return {
        "site_name": settings.SITE_NAME,
        "emergency_number": settings.EMERGENCY_NUMBER,
        "urgent_advice_line": settings.URGENT_ADVICE_LINE,
        "crisis_line": settings.CRISIS_LINE,
        # Called by the template only where it is used (the navigation), not on every render.
        "is_coach": lambda: request.user.is_staff or roles.is_coach(request.user),
    }
