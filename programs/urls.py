from django.contrib.auth import views as auth_views
from django.urls import include, path

from programs.forms import EmailAuthenticationForm
from programs.views import (
    accounts,
    catalogue,
    checkins,
    coaching,
    dashboard,
    emails,
    enrolment,
    invitations,
    status,
)

urlpatterns = [
    path("", catalogue.home, name="home"),
    path("programs/<slug:slug>/", catalogue.program_detail, name="program_detail"),
    path("programs/<slug:slug>/enrol/", enrolment.enrol, name="enrol"),
    path("today/", enrolment.today_redirect, name="today_redirect"),
    path("enrolments/<int:pk>/", enrolment.today, name="today"),
    path("enrolments/<int:pk>/progress/", enrolment.progress, name="progress"),
    path(
        "enrolments/<int:pk>/log/<int:prescription_pk>/",
        enrolment.log_session,
        name="log_session",
    ),
    path("enrolments/<int:pk>/clearance/", enrolment.confirm_clearance, name="clearance"),
    path("enrolments/<int:pk>/pause/", enrolment.pause, name="pause"),
    path("enrolments/<int:pk>/resume/", enrolment.resume, name="resume"),
    path("enrolments/<int:pk>/withdraw/", enrolment.withdraw, name="withdraw"),
    path("enrolments/<int:pk>/checkin/", checkins.checkin, name="checkin"),
    path("checkin/<str:token>/", checkins.checkin_link, name="checkin_link"),
    path("enrolments/<int:pk>/emails/", emails.preferences, name="preferences"),
    path("email/unsubscribe/<str:token>/", emails.unsubscribe, name="unsubscribe"),
    path("coach/", dashboard.dashboard, name="dashboard"),
    path("coach/clients.csv", dashboard.export_csv, name="export_csv"),
    path("coach/settings/", invitations.coach_settings, name="coach_settings"),
    path("coach/invitations/", invitations.invitations, name="invitations"),
    path("invite/<str:token>/", invitations.accept, name="accept_invitation"),
    path("coach/clients/<int:pk>/", coaching.client, name="client"),
    path("coach/clients/<int:pk>/clear-hold/", coaching.clear_hold, name="clear_hold"),
    path("coach/clients/<int:pk>/pause/", coaching.pause, name="client_pause"),
    path("coach/clients/<int:pk>/resume/", coaching.resume, name="client_resume"),
    path("coach/clients/<int:pk>/stages/", coaching.stage_override, name="client_stage"),
    path("coach/clients/<int:pk>/notes/", coaching.note, name="client_note"),
    path("coach/clients/<int:pk>/message/", coaching.message, name="client_message"),
    path("status/", status.status_page, name="status"),
    path("status.json", status.status_json, name="status_json"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm),
        name="login",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
]
