from datetime import timedelta

from django.conf import settings
from django.conf.urls.static import static as serve_files
from django.contrib import admin
from django.http import (
    Http404,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseServerError,
)
from django.template import loader
from django.templatetags.static import static
from django.urls import include, path
from django.utils import timezone

from programs.views import account


def security_txt(request):
    """Where to report a security problem (RFC 9116), from SECURITY_CONTACT."""
    contact = settings.SECURITY_CONTACT
    if not contact:
        raise Http404("No security contact is configured.")
    if ":" not in contact:
        contact = f"mailto:{contact}"
    expires = (timezone.now() + timedelta(days=180)).replace(microsecond=0)
    lines = [
        f"Contact: {contact}",
        f"Expires: {expires:%Y-%m-%dT%H:%M:%SZ}",
        "Preferred-Languages: en",
        f"Canonical: {settings.SITE_URL}/.well-known/security.txt",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links to."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


def server_error(request):
    """The 500 page, rendered without the request or the database: either may be what
    failed. Only settings fill it in."""
    context = {
        "site_name": settings.SITE_NAME,
        "emergency_number": settings.EMERGENCY_NUMBER,
        "urgent_advice_line": settings.URGENT_ADVICE_LINE,
        "crisis_line": settings.CRISIS_LINE,
    }
    return HttpResponseServerError(loader.get_template("500.html").render(context))


handler500 = server_error

urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path(".well-known/security.txt", security_txt, name="security_txt"),
    path("account/", account.account, name="account"),
    path("account/export.json", account.export, name="account_export"),
    path("account/delete/", account.delete, name="account_delete"),
    path("account/enrolments/<int:pk>/remove-coach/", account.remove_coach, name="remove_coach"),
    path("", include("programs.urls")),
]
# Uploaded exercise media from var/media/ while developing (`make run`); a deployment serves it
# from its proxy or a bucket (README). Django's helper adds nothing when DEBUG is off.
urlpatterns += serve_files(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
