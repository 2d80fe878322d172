"""Installable: the web app manifest, the service worker and the page it shows offline.

The service worker (templates/sw.js) is served from the site's root so that its scope is the
whole site. It keeps the app shell (styles, scripts, icons, the offline page) and the last
Today page and guided session she opened, and nothing else: no other page, no POST, nothing of
a coach's. Logging out empties its page cache.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_GET

THEME_COLOUR = "#2f6f62"  # --accent in site.css
BACKGROUND_COLOUR = "#fbf8f4"  # --paper

# Kept when the service worker installs; static() gives their hashed names in production.
SHELL_FILES = [
    "css/site.css",
    "css/figures.css",
    "vendor/htmx-2.0.11.min.js",
    "js/app.js",
    "js/guided.js",
    "favicon.svg",
    "icons/icon-192.png",
]


@require_GET
def manifest(request):
    """The web app manifest: name, colours, icons, and Today as where it opens."""
    icons = [
        {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {
            "src": static("icons/maskable-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",
        },
    ]
    data = {
        "id": "/",
        "name": settings.SITE_NAME,
        "short_name": "Recovery",
        "description": "Your postpartum recovery program, a little each day.",
        "start_url": reverse("today_redirect"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": icons,
    }
    return JsonResponse(data, content_type="application/manifest+json")


@require_GET
def service_worker(request):
    """sw.js from the root, allowed to control the whole site. Its cache is named after what
    it keeps, so a deployment that changes a static file replaces the old cache."""
    shell = [reverse("offline"), *(static(name) for name in SHELL_FILES)]
    version = hashlib.sha256("\n".join(shell).encode()).hexdigest()[:12]
    response = render(
        request,
        "sw.js",
        {
            "config": json.dumps(
                {
                    "version": version,
                    "shell": shell,
                    "offline": reverse("offline"),
                    "logout": reverse("logout"),
                    "login": reverse("login"),
                    "today": reverse("today_redirect"),
                }
            )
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
def offline(request):
    """What the service worker shows for a page it may not keep, when there is no network."""
    # Settings only: the service worker keeps this page for everyone on the phone.
    context = {"site_name": settings.SITE_NAME, "emergency_number": settings.EMERGENCY_NUMBER}
    return render(request, "offline.html", context)
