"""Hardening: production settings, security headers, the Content Security Policy, login
throttling and security.txt."""

import json
import logging
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from programs import roles
from programs.models import CheckIn
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def production_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DJANGO_"))}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="recovery.example",
        VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    env.update(extra)
    return env


def run_python(env, code: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "recovery.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


SHOW_SETTINGS = """
import json, logging, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "ssl_redirect": s.SECURE_SSL_REDIRECT,
    "hsts": s.SECURE_HSTS_SECONDS,
    "hsts_subdomains": s.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "session_secure": s.SESSION_COOKIE_SECURE,
    "csrf_secure": s.CSRF_COOKIE_SECURE,
    "session_httponly": s.SESSION_COOKIE_HTTPONLY,
    "csrf_httponly": s.CSRF_COOKIE_HTTPONLY,
    "samesite": s.SESSION_COOKIE_SAMESITE,
    "proxy_header": getattr(s, "SECURE_PROXY_SSL_HEADER", None),
    "sql_log_level": logging.getLogger("django.db.backends").getEffectiveLevel(),
    "template_log_level": logging.getLogger("django.template").getEffectiveLevel(),
}))
"""


# Production settings


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_defaults_are_strict(tmp_path):
    values = run_python(production_env(tmp_path, LOG_LEVEL="DEBUG"), SHOW_SETTINGS)
    assert values["ssl_redirect"] is True
    assert values["hsts"] >= 31536000
    assert values["hsts_subdomains"] is True
    assert values["session_secure"] and values["csrf_secure"]
    assert values["session_httponly"] and values["csrf_httponly"]
    assert values["samesite"] == "Lax"
    assert values["proxy_header"] is None


def test_sql_and_template_lookups_are_never_logged_even_at_log_level_debug(tmp_path):
    """At DEBUG, django.db.backends logs each query's parameters, and django.template the
    object a failed lookup looked in: her health data."""
    values = run_python(production_env(tmp_path, LOG_LEVEL="DEBUG"), SHOW_SETTINGS)
    assert values["sql_log_level"] >= logging.WARNING
    assert values["template_log_level"] >= logging.INFO


def test_behind_a_proxy_its_https_header_and_settings_come_from_the_environment(tmp_path):
    env = production_env(
        tmp_path,
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        SECURE_SSL_REDIRECT="0",
        SECURE_HSTS_SECONDS="600",
    )
    values = run_python(env, SHOW_SETTINGS)
    assert values["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["ssl_redirect"] is False
    assert values["hsts"] == 600


# Headers and the Content Security Policy


def csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def test_every_page_has_a_strict_content_security_policy(client):
    policy = csp(client.get(reverse("home")))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    for values in policy.values():
        assert "'unsafe-inline'" not in values
        assert "'unsafe-eval'" not in values


def test_security_headers(client):
    response = client.get(reverse("login"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_htmx_is_told_not_to_inject_its_indicator_style(client):
    content = client.get(reverse("home")).content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles":false}'>""" in content


@pytest.fixture
def coach(django_user_model):
    user = django_user_model.objects.create_user(
        "dana@example.com", "dana@example.com", PASSWORD, first_name="Dana"
    )
    roles.make_coach(user)
    return user


INLINE = [
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"<style", re.I), "a <style> element"),
    (re.compile(r"\sstyle=", re.I), "a style attribute"),
    (re.compile(r"\son[a-z]+=", re.I), "an inline event handler"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
    (re.compile(r"\shx-on", re.I), "an hx-on handler (needs eval)"),
]


def assert_nothing_inline(path: str, response) -> None:
    assert response.status_code == 200, path
    assert "Content-Security-Policy" in response, path
    content = response.content.decode()
    for pattern, what in INLINE:
        assert not pattern.search(content), f"{path} has {what}, which the CSP blocks"
    for src in re.findall(r'<script[^>]*\ssrc="([^"]+)"', content):
        assert src.startswith("/static/"), f"{path} loads a script from {src}"


def test_no_page_needs_anything_the_policy_blocks(client, user, coach, program, make_enrolment):
    enrolment = make_enrolment(coach=coach)
    CheckIn.objects.create(
        enrolment=enrolment,
        week=1,
        submitted_at=enrolment.created_at,
        pain=3,
        sessions_felt="right",
    )
    public = ["home", "login", "signup", "password_reset"]
    for name in public:
        assert_nothing_inline(name, client.get(reverse(name)))
    assert_nothing_inline("program_detail", client.get(program.get_absolute_url()))

    client.force_login(user)
    for name in ["today", "progress", "checkin", "preferences", "withdraw"]:
        path = reverse(name, args=[enrolment.pk])
        assert_nothing_inline(path, client.get(path))
    for name in ["account", "account_delete", "password_change"]:
        assert_nothing_inline(name, client.get(reverse(name)))

    client.force_login(coach)
    for name in ["dashboard", "invitations", "coach_settings"]:
        assert_nothing_inline(name, client.get(reverse(name)))
    path = reverse("client", args=[enrolment.pk])
    assert_nothing_inline(path, client.get(path))


def test_the_enrol_page_loads_its_script_from_static(member, program):
    response = member.get(reverse("enrol", args=[program.slug]))
    assert_nothing_inline("enrol", response)
    assert '<script src="/static/js/enrol.js" defer></script>' in response.content.decode()


def test_mark_done_with_htmx_still_works_under_the_policy(member, make_enrolment, clock):
    enrolment = make_enrolment()
    clock("2026-03-10 09:00", "Europe/London")
    prescription = enrolment.program.stages.get(slug="deep-core").prescriptions.first()
    response = member.post(
        reverse("log_session", args=[enrolment.pk, prescription.pk]),
        {"action": "done"},
        HTTP_HX_REQUEST="true",
    )
    assert_nothing_inline("log_session", response)
    assert f'id="ex-{prescription.pk}"' in response.content.decode()
    assert enrolment.sessions.count() == 1


# Login throttling


def log_in(client, username, password, address="127.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def fail_five_times(client, username, address="127.0.0.1"):
    for _ in range(5):
        log_in(client, username, "wrong-password", address)


def test_four_wrong_passwords_get_the_usual_message(client, user):
    for _ in range(4):
        response = log_in(client, user.email, "wrong-password")
        assert response.status_code == 200
        assert "Please enter a correct" in response.content.decode()
    assert log_in(client, user.email, PASSWORD).status_code == 302


def test_after_five_wrong_passwords_the_right_one_is_refused_with_a_clear_message(client, user):
    fail_five_times(client, user.email)
    response = log_in(client, user.email, PASSWORD)
    assert response.status_code == 429
    content = response.content.decode()
    assert "Too many attempts to log in" in content
    assert "paused for 15 minutes" in content
    assert reverse("password_reset") in content
    assert "_auth_user_id" not in client.session


def test_the_lockout_counts_her_email_in_any_case(client, user):
    fail_five_times(client, user.email.upper())
    assert log_in(client, user.email, PASSWORD).status_code == 429


def test_a_lockout_leaves_other_accounts_alone(client, user, other_user):
    fail_five_times(client, user.email)
    response = log_in(client, other_user.email, PASSWORD)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == other_user.pk


def test_a_lockout_is_per_address(client, user):
    fail_five_times(client, user.email, address="203.0.113.9")
    assert log_in(client, user.email, PASSWORD, address="198.51.100.7").status_code == 302


def test_the_lockout_ends_after_15_minutes(client, user, clock):
    clock("2026-03-10 09:00")
    fail_five_times(client, user.email)
    clock("2026-03-10 09:14")
    assert log_in(client, user.email, PASSWORD).status_code == 429
    clock("2026-03-10 09:15:01")
    assert log_in(client, user.email, PASSWORD).status_code == 302


def test_behind_a_proxy_the_forwarded_address_counts(client, user, settings):
    settings.TRUSTED_PROXY_COUNT = 1

    def via_proxy(address, password):
        return client.post(
            reverse("login"),
            {"username": user.email, "password": password},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"10.9.9.9, {address}",
        )

    for _ in range(5):
        via_proxy("203.0.113.9", "wrong-password")
    assert via_proxy("203.0.113.9", PASSWORD).status_code == 429
    assert via_proxy("198.51.100.7", PASSWORD).status_code == 302


def test_signup_does_not_log_her_in_before_she_confirms_her_address(client):
    data = {
        "first_name": "Chloe",
        "email": "chloe@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    assert client.post(reverse("signup"), data)["Location"] == reverse("signup_sent")
    assert client.get(reverse("account")).status_code == 302  # to the log-in page


# Cache-Control: nothing is kept by a browser's or a proxy's cache


def every_route(patterns=None, prefix=""):
    """(route, name) for every pattern in the urlconf, the admin's aside."""
    from django.urls import URLResolver, get_resolver

    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if not route.startswith("admin/"):
                yield from every_route(pattern.url_patterns, route)
        else:
            yield route, pattern.name


def concrete(route: str, values: dict) -> str:
    def fill(match):
        return str(values.get(match["name"], "x"))

    return "/" + re.sub(r"<(?:\w+:)?(?P<name>\w+)>", fill, route)


def assert_private(response, path):
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    assert {"no-store", "private"} <= directives, (path, response.status_code, directives)


def test_every_route_answers_with_no_store_private(
    client, user, coach, program, make_enrolment, django_user_model
):
    enrolment = make_enrolment(coach=coach)
    staff = django_user_model.objects.create_user(
        "sam@example.com", "sam@example.com", PASSWORD, is_staff=True, is_superuser=True
    )
    values = {
        "pk": enrolment.pk,
        "prescription_pk": program.stages.first().prescriptions.first().pk,
        "slug": program.slug,
    }
    routes = list(every_route())
    assert len(routes) > 30
    for who in (None, user, coach, staff):
        client.logout()
        if who is not None:
            client.force_login(who)
        for route, _ in routes:
            path = concrete(route, values)
            assert_private(client.get(path), path)


@pytest.mark.parametrize(
    ("name", "who", "with_pk"),
    [
        ("dashboard", "coach", False),
        ("export_csv", "coach", False),
        ("client", "coach", True),
        ("today", "user", True),
        ("progress", "user", True),
        ("checkin", "user", True),
        ("account", "user", False),
        ("account_export", "user", False),
    ],
)
def test_pages_with_health_data_are_not_stored(request, client, make_enrolment, name, who, with_pk):
    coach = request.getfixturevalue("coach")
    enrolment = make_enrolment(coach=coach)
    client.force_login(request.getfixturevalue(who))
    path = reverse(name, args=[enrolment.pk] if with_pk else [])
    response = client.get(path)
    assert response.status_code == 200, path
    assert_private(response, path)


# Error pages and the favicon


def assert_site_page(response, status: int, heading: str, way_back: str):
    assert response.status_code == status
    content = response.content.decode()
    assert heading in content
    assert f'href="{way_back}"' in content
    assert "/static/css/site.css" in content  # the site's look
    assert "favicon.svg" in content


def test_an_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page/")
    assert_site_page(response, 404, "We can't find that page", reverse("home"))
    assert_nothing_inline(
        "404", type(response)(response.content, status=200, headers=response.headers)
    )


def test_a_page_for_someone_else_is_a_friendly_403(member):
    response = member.get(reverse("dashboard"))
    assert_site_page(response, 403, "This page isn't open to you", reverse("today_redirect"))


def test_a_request_we_cannot_read_is_a_friendly_400(client):
    response = client.get("/", HTTP_HOST="not a host!")
    assert_site_page(response, 400, "We couldn't read that request", reverse("home"))


def test_an_expired_form_is_a_friendly_403(user):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.post(reverse("logout"))
    assert_site_page(response, 403, "That form had expired", reverse("today_redirect"))


def boom(request):
    raise RuntimeError("a bug")


def error_urls():
    from django.urls import path

    from recovery import urls

    return [path("boom/", boom), *urls.urlpatterns]


urlpatterns = error_urls()
handler500 = "recovery.urls.server_error"


def test_a_server_error_is_a_friendly_500(client, settings):
    settings.ROOT_URLCONF = __name__
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert_site_page(response, 500, "Something went wrong on our side", "/")
    assert "Postpartum Recovery" in response.content.decode()
    assert "a bug" not in response.content.decode()


def test_the_500_page_needs_neither_the_request_nor_the_database(django_db_blocker):
    from recovery.urls import server_error

    with django_db_blocker.block():
        response = server_error(None)
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


def test_favicon_ico_is_the_sites_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith(".svg")
    assert "favicon" in response["Location"]


# security.txt


def test_security_txt_names_the_deployments_contact(client, settings, clock):
    clock("2026-03-10 09:00")
    settings.SECURITY_CONTACT = "security@clinic.example"
    response = client.get("/.well-known/security.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "Contact: mailto:security@clinic.example" in lines
    assert "Expires: 2026-09-06T09:00:00Z" in lines


def test_security_txt_takes_a_url_as_it_is(client, settings):
    settings.SECURITY_CONTACT = "https://clinic.example/security"
    content = client.get("/.well-known/security.txt").content.decode()
    assert "Contact: https://clinic.example/security\n" in content


def test_without_a_contact_there_is_no_security_txt(client, settings):
    settings.SECURITY_CONTACT = ""
    assert client.get("/.well-known/security.txt").status_code == 404
