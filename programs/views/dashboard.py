"""
A coach's dashboard of her clients, and their CSV export.

Both go through `listing`, which turns the query string into the sorted rows: the database
narrows the enrolments (whose, status, program, search), `clients.load` computes every row in
a fixed number of queries, then Python filters by what only the schedule knows (week, flags),
sorts, and the dashboard paginates.

Whose clients. A coach sees her own. Staff may look after anyone, but a hundred thousand
enrolments cannot be loaded and sorted in Python, so staff always look at one slice, chosen in
the `coach` filter: one coach's clients, the unassigned ones, or everyone (useful with a
search). With no coach chosen, staff see their own clients if they have any, else the
unassigned ones: those are the women no coach is watching, which is what a staff member most
needs to notice. Any slice, everyone's included, may turn out too big; past `MAX_ROWS`
matches nothing is loaded and the page asks for narrower filters instead.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from programs import charts, clients, conversation, roles
from programs.coaching import FLAG_LABELS, Flag
from programs.forms import BulkMessageForm
from programs.models import Enrolment, Program
from programs.views.coaching import coach_required

User = get_user_model()

PER_PAGE = 25
MAX_ROWS = 1000  # more matches than this are not loaded: the filters must narrow them first

STATUSES = {
    "current": Enrolment.FOLLOWED,
    "all": None,
    "active": (Enrolment.Status.ACTIVE,),
    "paused": (Enrolment.Status.PAUSED,),
    "completed": (Enrolment.Status.COMPLETED,),
    "withdrawn": (Enrolment.Status.WITHDRAWN,),
}
URGENCY = (
    Flag.URGENT,
    Flag.HOLD,
    Flag.PAIN_UP,
    Flag.STRAIN,
    Flag.IDLE,
    Flag.FAILING,
    Flag.BROKEN,
)  # the order of "flagged first"
UNASSIGNED, EVERYONE = "unassigned", "all"

SORTS = {
    "flags": "Flagged first",
    "name": "Name, A to Z",
    "-name": "Name, Z to A",
    "week": "Week, earliest first",
    "-week": "Week, latest first",
    "adherence": "Last 7 days, lowest first",
    "-adherence": "Last 7 days, highest first",
    "activity": "Last activity, oldest first",
    "-activity": "Last activity, newest first",
    "pain": "Last pain, lowest first",
    "-pain": "Last pain, highest first",
}


def name_of(user) -> str:
    return user.get_full_name() or user.email


SORT_KEYS = {
    "flags": lambda row: tuple(flag not in row.client.flags for flag in URGENCY),
    "name": lambda row: name_of(row.enrolment.user).casefold(),
    "week": lambda row: row.client.snapshot.week,
    "adherence": lambda row: row.client.last_7_days.percent,
    "activity": lambda row: row.client.last_activity or date.min,
    "pain": lambda row: -1 if row.client.last_pain is None else row.client.last_pain,
}


class ClientFilter(forms.Form):
    q = forms.CharField(label="Search", max_length=100, required=False, widget=forms.SearchInput())
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[
            ("current", "Current (active, paused or just finished)"),
            ("all", "All"),
            ("active", "Active"),
            ("paused", "Paused"),
            ("completed", "Completed"),
            ("withdrawn", "Withdrawn"),
        ],
    )
    flag = forms.ChoiceField(
        label="Flag",
        required=False,
        choices=[("", "Flagged or not"), ("any", "Any flag"), *FLAG_LABELS.items()],
    )
    program = forms.ModelChoiceField(
        label="Program",
        queryset=Program.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label="All programs",
    )
    week = forms.IntegerField(label="Week", min_value=0, max_value=52, required=False)
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORTS.items())
    coach = forms.ChoiceField(label="Coach", required=False)

    def __init__(self, data, user):
        super().__init__(data, label_suffix="")
        if user.is_staff:
            self.fields["coach"].choices = coach_choices(user)
        else:
            del self.fields["coach"]


def coach_choices(user) -> list[tuple[str, str]]:
    coaches = User.objects.filter(Q(groups__name=roles.COACH_GROUP) | Q(pk=user.pk)).distinct()
    named = sorted(
        (name_of(c).casefold(), str(c.pk), name_of(c) + (" (you)" if c == user else ""))
        for c in coaches
    )
    return [
        (UNASSIGNED, "Unassigned"),
        *((pk, label) for _, pk, label in named),
        (EVERYONE, "Everyone (narrow with search)"),
    ]


@dataclass
class Listing:
    form: ClientFilter
    query: QueryDict  # the query string with ignored values left out
    ignored: list[str]  # a sentence for each ignored value
    rows: list[clients.Row]
    too_many: bool = False  # more than MAX_ROWS matched, so nothing was loaded
    scope: QuerySet | None = None  # her clients before any filter, for the empty state


def listing(request) -> Listing:
    """The rows the query string asks for, filtered and sorted; bad values are ignored."""
    query = request.GET.copy()
    if request.user.is_staff and not query.get("coach"):
        query["coach"] = default_coach(request.user)
    form = ClientFilter(query, request.user)
    ignored = []
    if not form.is_valid():
        for name, errors in form.errors.items():
            raw = query.get(name, "")
            raw = raw if len(raw) <= 40 else raw[:39] + "…"
            ignored.append(f"Ignored {form.fields[name].label.lower()} “{raw}”: {errors[0]}")
            del query[name]
        if "coach" in form.errors:
            query["coach"] = default_coach(request.user)
        form = ClientFilter(query, request.user)
        form.is_valid()
    data = form.cleaned_data

    scope = clients.enrolments_of(request.user)
    if request.user.is_staff:
        scope = by_coach(scope, data["coach"])
    enrolments = scope
    statuses = STATUSES[data["status"] or "current"]
    if statuses:
        enrolments = enrolments.filter(status__in=statuses)
    if data["program"]:
        enrolments = enrolments.filter(program=data["program"])
    for word in data["q"].split():
        enrolments = enrolments.filter(
            Q(user__first_name__icontains=word)
            | Q(user__last_name__icontains=word)
            | Q(user__email__icontains=word)
        )
    if enrolments.order_by()[: MAX_ROWS + 1].count() > MAX_ROWS:
        return Listing(form, query, ignored, [], too_many=True, scope=scope)

    rows = clients.load(enrolments, timezone.now())
    # Before filtering and sorting, so that neither reveals what a row does not show.
    rows = [
        row
        if roles.sees_health_data(request.user, row.enrolment)
        else roles.without_health_data(row)
        for row in rows
    ]
    if data["week"] is not None:
        rows = [r for r in rows if r.client.snapshot.week == data["week"]]
    if data["flag"] == "any":
        rows = [r for r in rows if r.flagged]
    elif data["flag"]:
        rows = [r for r in rows if Flag(data["flag"]) in r.client.flags]
    return Listing(form, query, ignored, sort(rows, data["sort"] or "flags"), scope=scope)


def default_coach(user) -> str:
    """Staff with no coach chosen: their own clients if they have any, else the unassigned."""
    return str(user.pk) if Enrolment.objects.filter(coach=user).exists() else UNASSIGNED


def by_coach(enrolments: QuerySet, coach: str) -> QuerySet:
    if coach == EVERYONE:
        return enrolments
    if coach == UNASSIGNED:
        return enrolments.filter(coach__isnull=True)
    return enrolments.filter(coach_id=int(coach))


def sort(rows: list[clients.Row], order: str) -> list[clients.Row]:
    """By `order` (a key of SORTS), then by name; ties keep their order."""
    key = order.removeprefix("-")
    rows = sorted(rows, key=SORT_KEYS["name"])
    return sorted(rows, key=SORT_KEYS[key], reverse=order.startswith("-"))


def sort_links(query: QueryDict, current: str) -> dict[str, dict]:
    """For each sortable column: the link that sorts by it (again: the other way round), and
    its aria-sort value."""
    links = {}
    for key in SORT_KEYS:
        params = query.copy()
        params.pop("page", None)
        params["sort"] = f"-{key}" if current == key and key != "flags" else key
        aria = {key: "ascending", f"-{key}": "descending"}.get(current)
        links[key] = {"url": f"?{params.urlencode()}", "aria": aria}
    return links


@coach_required
def dashboard(request):
    found = listing(request)
    for sentence in found.ignored:
        messages.warning(request, sentence)
    page = Paginator(found.rows, PER_PAGE).get_page(request.GET.get("page"))
    has_clients = bool(found.rows) or found.too_many or found.scope.exists()
    # Her unread messages are counted for her coach alone: the thread is hers and her coach's.
    unread = conversation.unread_for_coach(
        row.enrolment.pk for row in page if row.enrolment.coach_id == request.user.pk
    )
    return render(
        request,
        "coach/dashboard.html",
        {
            "form": found.form,
            "query": found.query,
            "page": page,
            "entries": [
                (
                    row,
                    charts.pain_line(row.client.pains),
                    [(f, FLAG_LABELS[f]) for f in row.client.flags],
                    unread.get(row.enrolment.pk, 0),
                )
                for row in page
            ],
            "count": len(found.rows),
            "flagged": sum(row.flagged for row in found.rows),
            "too_many": found.too_many,
            "max_rows": MAX_ROWS,
            "has_clients": has_clients,
            # Shares the pause form: a required text box would stop a pause from being sent.
            "bulk_message_form": BulkMessageForm(
                enrolments=Enrolment.objects.none(), use_required_attribute=False
            ),
            "sorts": sort_links(found.query, found.form.cleaned_data["sort"] or "flags"),
        },
    )


CSV_HEADER = [
    "Name",
    "Email",
    "Program",
    "Week",
    "Weeks",
    "Status",
    "Adherence 7 days %",
    "Adherence overall %",
    "Last activity",
    "Last pain",
    "Flags",
]


def spreadsheet_safe(value) -> str:
    """A cell a spreadsheet will not run as a formula: a leading =, +, -, @, tab or carriage
    return gets an apostrophe before it."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def csv_cells(row: clients.Row) -> list:
    enrolment, client = row.enrolment, row.client
    return [
        name_of(enrolment.user),
        enrolment.user.email,
        enrolment.program.name,
        client.snapshot.week,
        client.snapshot.weeks,
        enrolment.status,
        client.last_7_days.percent,
        client.overall_percent,
        client.last_activity.isoformat() if client.last_activity else "",
        client.last_pain,
        "; ".join(FLAG_LABELS[flag] for flag in client.flags),
    ]


@coach_required
def export_csv(request):
    found = listing(request)
    if found.too_many:
        return redirect(f"{reverse('dashboard')}?{found.query.urlencode()}")
    response = HttpResponse(
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="clients.csv"'},
    )
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for row in found.rows:
        writer.writerow([spreadsheet_safe(cell) for cell in csv_cells(row)])
    return response
