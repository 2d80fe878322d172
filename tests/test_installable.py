"""Installable: the manifest, the service worker's script and scope, and the offline page."""

import json

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_manifest_names_the_app_its_colours_and_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == "/today/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#2f6f62"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        assert icon["src"].startswith("/static/icons/") and icon["src"].endswith(".png")


def test_every_page_links_the_manifest_and_registers_the_worker(client):
    page = client.get("/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert 'src="/static/js/app.js"' in page
    assert '<meta name="theme-color" content="#2f6f62">' in page


def test_service_worker_is_served_from_the_root_for_the_whole_site(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    script = response.content.decode()
    config = json.loads(script.split("const CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert config["offline"] == "/offline/"
    assert config["logout"] == "/accounts/logout/"
    assert "/offline/" in config["shell"] and "/static/css/site.css" in config["shell"]
    # Only her Today page and guided session are kept; nothing of a coach's, no POST.
    assert r"const KEPT_PAGE = /^\/enrolments\/\d+\/(session\/)?$/;" in script
    assert 'if (request.method !== "GET")' in script


def test_service_worker_cache_is_named_after_what_it_keeps(client, settings):
    first = client.get("/sw.js").content.decode()
    settings.STATIC_URL = "/assets/"
    second = client.get("/sw.js").content.decode()
    version = [s.split('"version": "', 1)[1][:12] for s in (first, second)]
    assert version[0] != version[1]


def test_offline_page_names_no_one(client, user):
    client.force_login(user)
    response = client.get(reverse("offline"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "You're offline" in page
    assert user.email not in page and "csrf" not in page.lower()


def test_post_is_refused(client):
    assert client.post("/sw.js").status_code == 405
