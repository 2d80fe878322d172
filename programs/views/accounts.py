"""Signing up. Logging in and out and password resets are Django's own views."""

from django.contrib.auth import login
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from programs.forms import SignupForm
from programs.views import invitations


def signup(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = ""
    # Sent as a URL, never looked up as a view name: redirect("xyz") would be a server error.
    if request.user.is_authenticated:
        return HttpResponseRedirect(next_url or reverse("home"))

    # Invited by a coach: her invitation's address to start with (she may use another).
    invitation = invitations.pending(request)
    initial = {"email": invitation.email} if invitation else {}
    form = SignupForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return HttpResponseRedirect(next_url or reverse("home"))
    return render(request, "registration/signup.html", {"form": form, "next": next_url})
