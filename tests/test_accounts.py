"""Signing up, logging in and out, and resetting a password."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
User = get_user_model()


def signup_data(**overrides):
    data = {
        "first_name": "Chloe",
        "email": "Chloe@Example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return data


def test_signup_creates_the_account_and_logs_her_in(client):
    response = client.post(reverse("signup"), signup_data())
    assert response.status_code == 302
    user = User.objects.get()
    assert user.username == user.email == "chloe@example.com"
    assert user.first_name == "Chloe"
    assert client.get(reverse("today_redirect")).status_code == 302  # logged in, not sent to login
    assert int(client.session["_auth_user_id"]) == user.pk


def test_signup_follows_a_safe_next(client, program):
    target = reverse("enrol", args=[program.slug])
    response = client.post(reverse("signup"), {**signup_data(), "next": target})
    assert response["Location"] == target


def test_signup_ignores_an_offsite_next(client):
    response = client.post(reverse("signup"), {**signup_data(), "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"email": "not-an-email"}, "Enter a valid email address"),
        ({"password2": "something-else-42"}, "didn’t match"),
        ({"password1": "short", "password2": "short"}, "too short"),
        ({"first_name": ""}, "This field is required"),
    ],
)
def test_bad_signup_gets_a_message_and_creates_nothing(client, overrides, message):
    response = client.post(reverse("signup"), signup_data(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_signup_with_a_taken_email_says_so(client, user):
    response = client.post(reverse("signup"), signup_data(email="AMIRA@example.com"))
    assert "already exists" in response.content.decode()
    assert User.objects.count() == 1


def test_login_with_email_in_any_case(client, user):
    response = client.post(
        reverse("login"), {"username": "Amira@Example.COM", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_login_with_a_wrong_password_fails(client, user):
    response = client.post(reverse("login"), {"username": user.email, "password": "wrong"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post(member):
    assert member.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in member.session


def test_password_reset_end_to_end(client, user):
    client.post(reverse("password_reset"), {"email": user.email})
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    link = re.search(r"https?://[^\s]+/reset/[^\s]+/", message.body).group(0)
    path = link.split("testserver", 1)[1]
    form_page = client.get(path, follow=True)
    new_password = "another-long-passphrase-77"
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    user.refresh_from_db()
    assert user.check_password(new_password)


def test_password_reset_for_an_unknown_email_sends_nothing_and_tells_nothing(client, db):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert mail.outbox == []
