"""Signing up, and where logging in leads. Logging in and out and password resets are
Django's own views.

Sign-up never says whether an address already has an account. Every valid sign-up ends on the
same "check your email" page, and the address gets an email either way: a new account gets a
link that confirms the address and logs her in (the account stays inactive until then); an
address that already has an account is told someone tried to sign up with it, with links to
log in and to reset the password. Like password resets, at most a few such emails go to one
address, or from one client, an hour (programs.throttling).
"""

from __future__ import annotations

import logging
import smtplib
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import (
    url_has_allowed_host_and_scheme,
    urlsafe_base64_decode,
    urlsafe_base64_encode,
)

from programs import links, roles, throttling
from programs.forms import EmailAuthenticationForm, SignupForm
from programs.views import invitations

log = logging.getLogger(__name__)
User = get_user_model()


class ConfirmationTokens(PasswordResetTokenGenerator):
    """One-use links confirming a new account's address: once she is active and logged in,
    the token no longer matches (last_login and is_active are in its hash)."""

    key_salt = "programs.views.accounts.ConfirmationTokens"

    def _make_hash_value(self, user, timestamp):
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


confirmation_tokens = ConfirmationTokens()


def landing(user) -> str:
    """Where a log-in without a ?next= leads: a coach (or staff) to her clients, anyone else
    to Today."""
    return reverse("dashboard") if roles.coaches(user) else reverse("today_redirect")


class LoginView(auth_views.LoginView):
    """Django's log-in; a safe ?next= still wins (Django checks it), else `landing`."""

    authentication_form = EmailAuthenticationForm

    def get_default_redirect_url(self):
        return landing(self.request.user)


def safe_next(request, next_url: str) -> str:
    if url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return ""


def signup(request):
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    # Sent as a URL, never looked up as a view name: redirect("xyz") would be a server error.
    if request.user.is_authenticated:
        return HttpResponseRedirect(next_url or reverse("home"))

    # Invited by a coach: her invitation's address to start with.
    invitation = invitations.pending(request)
    initial = {"email": invitation.email} if invitation else {}
    form = SignupForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        if throttling.allow("signup", email, request):
            existing = form.existing_user()
            if existing is None:
                with transaction.atomic():
                    user = form.save()
                _send(user, "confirm", next_url)
            elif not existing.is_active and existing.last_login is None:
                _send(existing, "confirm", next_url)  # she never confirmed: the link again
            else:
                _send(existing, "existing", next_url)
        return redirect("signup_sent")
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


def signup_sent(request):
    return render(request, "account/signup_sent.html")


def _send(user, kind: str, next_url: str) -> None:
    """Email `user` the confirmation link ("confirm") or the someone-tried notice
    ("existing"): subject, text and HTML from templates/account/email_signup_<kind>*."""
    context = {
        "name": user.first_name,
        "site_name": settings.SITE_NAME,
        "login_url": links.absolute(reverse("login")),
        "reset_url": links.absolute(reverse("password_reset")),
        "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
    }
    if kind == "confirm":
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        path = reverse("signup_confirm", args=[uid, confirmation_tokens.make_token(user)])
        if next_url:
            path = f"{path}?{urlencode({'next': next_url})}"
        context["confirm_url"] = links.absolute(path)
    base = f"account/email_signup_{kind}"
    subject = render_to_string(f"{base}_subject.txt", context)
    try:
        send_mail(
            subject=" ".join(subject.split()),
            message=render_to_string(f"{base}.txt", context),
            from_email=None,
            recipient_list=[user.email],
            html_message=render_to_string(f"{base}.html", context),
        )
    except (smtplib.SMTPException, OSError):
        # The page says the same either way; she can sign up again for another link.
        log.warning("could not email sign-up %s to user %s", kind, user.pk, exc_info=True)


def signup_confirm(request, uidb64, token):
    """GET asks, POST confirms: a mail scanner that opens the link confirms nothing."""
    try:
        user = User.objects.get(pk=int(urlsafe_base64_decode(uidb64).decode()))
    except (ValueError, TypeError, OverflowError, User.DoesNotExist):
        user = None
    if user is None or user.is_active or not confirmation_tokens.check_token(user, token):
        message = "This link has expired or has already been used."
        return render(
            request,
            "programs/bad_link.html",
            {"message": message},
            status=400,
        )
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if request.method == "POST":
        user.is_active = True
        user.save(update_fields=["is_active"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Your email address is confirmed. Welcome.")
        return HttpResponseRedirect(next_url or reverse("home"))
    return render(request, "account/signup_confirm.html", {"next": next_url, "person": user})
