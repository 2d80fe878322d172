from django.conf import settings


def site(request):
    """Names and numbers every page may show."""
    return {
        "site_name": settings.SITE_NAME,
        "emergency_number": settings.EMERGENCY_NUMBER,
        "urgent_advice_line": settings.URGENT_ADVICE_LINE,
    }
