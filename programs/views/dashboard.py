"""
A coach's dashboard of her clients, the clinic's list of everyone for staff, and their CSV
exports.

All go through `listing`, which turns the query string into one query over the enrolments and
their stored rows (`ClientStatus`, kept current by `programs.client_status`): the database filters,
sorts and counts, and only the page on screen (or the CSV, streamed in chunks) is loaded, so a
list of a hundred thousand costs what a list of ten does.

Whose clients. A coach sees her own. Staff choose in the `coach` filter: one coach's clients,
the unassigned ones, or everyone. On the dashboard, with no coach chosen, staff see their own
clients if they have any, else the unassigned ones: the women no coach is watching. The clinic
view (/clinic/) starts from everyone.

Her health data (pain, and the flags that are health data) is shown, sorted and filtered by
only for viewers `roles.sees_health_data` allows: the same rule, as a database condition.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, Concat, Lower, NullIf, Trim
from django.http import QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import dateformat, timezone

from programs import charts, client_status, clients, conversation, roles, standing
from programs.coaching import FLAG_LABELS, Flag
from programs.forms import BulkMessageForm
from programs.models import ClientStatus, Enrolment, Program
from programs.views.coaching import coach_required
from programs.views.status import staff_required

User = get_user_model()

PER_PAGE = 25
CSV_CHUNK = 1000  # rows loaded at a time while the CSV streams

STATUSES = {
    "current": Enrolment.FOLLOWED,
    "all": None,
    "active": (Enrolment.Status.ACTIVE,),
    "paused": (Enrolment.Status.PAUSED,),
    "completed": (Enrolment.Status.COMPLETED,),
    "withdrawn": (Enrolment.Status.WITHDRAWN,),
}
URGENCY = standing.URGENCY  # the order of "flagged first"
UNASSIGNED, EVERYONE = "unassigned", "all"
HELD = "held"  # the flag filter's "held, urgent or not"

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
SORT_KEYS = ("flags", "name", "week", "adherence", "activity", "pain")


def name_of(user) -> str:
    return user.get_full_name() or user.email


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
        choices=[
            ("", "Flagged or not"),
            ("any", "Any flag"),
            (HELD, "Held (urgent or see a clinician)"),
            *FLAG_LABELS.items(),
        ],
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
    clients: QuerySet  # the enrolments that match, annotated and in order
    scope: QuerySet  # her clients before any filter, for the empty state


@dataclass(frozen=True)
class Entry:
    """One client as this viewer sees her: her enrolment, her stored row, and whether her
    reminders are failing."""

    enrolment: Enrolment
    status: ClientStatus
    failing: bool
    # Her health data is withheld from this viewer (`roles.sees_health_data`).
    health_hidden: bool = False

    @property
    def flags(self) -> tuple[Flag, ...]:
        return shown_flags(self.status.flags, self.failing, self.health_hidden)

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    @property
    def pains(self) -> tuple[int, ...]:
        return () if self.health_hidden else tuple(self.status.pains)

    @property
    def last_pain(self) -> int | None:
        return None if self.health_hidden else self.status.last_pain


def shown_flags(stored: Iterable[Flag], failing: bool, health_hidden: bool) -> tuple[Flag, ...]:
    """Her flags as this viewer sees them, most urgent first: her stored ones (those about her
    body only if her health data is shown), and whether her reminders are failing."""
    shown = set(stored)
    if health_hidden:
        shown &= roles.NEUTRAL_FLAGS
    if failing:
        shown.add(Flag.FAILING)
    return tuple(flag for flag in URGENCY if flag in shown)


def listing(request, everyone: bool = False) -> Listing:
    """The clients the query string asks for, filtered and sorted in the database; bad values
    are ignored. `everyone`: staff start from the whole clinic rather than their own."""
    query = request.GET.copy()
    if request.user.is_staff and not query.get("coach"):
        query["coach"] = EVERYONE if everyone else default_coach(request.user)
    form = ClientFilter(query, request.user)
    ignored = []
    if not form.is_valid():
        for name, errors in form.errors.items():
            raw = query.get(name, "")
            raw = raw if len(raw) <= 40 else raw[:39] + "…"
            ignored.append(f"Ignored {form.fields[name].label.lower()} “{raw}”: {errors[0]}")
            del query[name]
        if "coach" in form.errors:
            query["coach"] = EVERYONE if everyone else default_coach(request.user)
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
    enrolments = annotated(enrolments, request.user)
    if data["week"] is not None:
        enrolments = enrolments.filter(standing__week=data["week"])
    if data["flag"]:
        enrolments = enrolments.filter(flag_condition(data["flag"], request.user))
    enrolments = enrolments.order_by(*ordering(data["sort"] or "flags"))
    return Listing(form, query, ignored, enrolments, scope)


def annotated(enrolments: QuerySet, user) -> QuerySet:
    """Each enrolment with what sorting and filtering read, as this viewer may see it:
    `failing`, `shown_rank` (her flags as bits, health flags only if shown), `shown_pain`
    and `sort_name`."""
    if user.is_staff:
        shown = roles.health_data_condition(user)
        rank = Case(
            When(shown, then=F("standing__rank")),
            default=F("standing__neutral_rank"),
            output_field=IntegerField(),
        )
        pain = Case(When(shown, then=F("standing__last_pain")), default=None)
    else:
        # A coach lists only her own clients, whose health data she sees.
        rank, pain = F("standing__rank"), F("standing__last_pain")
    return enrolments.annotate(
        failing=client_status.failing(),
        shown_rank=rank
        + Case(
            When(failing=True, then=Value(standing.weight(Flag.FAILING))),
            default=Value(0),
            output_field=IntegerField(),
        ),
        shown_pain=pain,
        # As `name_of` reads: her full name, else her email.
        sort_name=Lower(
            Coalesce(
                NullIf(Trim(Concat("user__first_name", Value(" "), "user__last_name")), Value("")),
                "user__email",
                output_field=CharField(),
            )
        ),
    )


def flag_condition(flag: str, user) -> Q:
    """The `flag` filter on an `annotated` queryset."""
    # As in `annotated`: a coach who is not staff lists only clients whose health data she sees.
    shown = roles.health_data_condition(user) if user.is_staff else Q()
    if flag == "any":
        return Q(shown_rank__gt=0)
    if flag == HELD:
        return shown & (Q(standing__urgent=True) | Q(standing__hold=True))
    if flag == Flag.FAILING:
        return Q(failing=True)
    stored = Q(**{f"standing__{flag}": True})
    return stored if flag in roles.NEUTRAL_FLAGS else shown & stored


def ordering(order: str) -> list:
    """The ORDER BY of `order` (a key of SORTS): then by name, then by id, so that pages
    never overlap."""
    key, descending = order.removeprefix("-"), order.startswith("-")
    columns = {
        "week": F("standing__week"),
        "adherence": F("standing__recent_percent"),
        "activity": F("standing__last_activity"),
        "pain": Coalesce("shown_pain", Value(-1)),
    }
    if key == "flags":
        first = [F("shown_rank").desc()]
    elif key == "name":
        return [F("sort_name").desc() if descending else F("sort_name").asc(), "pk"]
    elif descending:
        first = [columns[key].desc(nulls_last=True)]
    else:
        first = [columns[key].asc(nulls_first=True)]
    return [*first, F("sort_name").asc(), "pk"]


def default_coach(user) -> str:
    """Staff with no coach chosen: their own clients if they have any, else the unassigned."""
    return str(user.pk) if Enrolment.objects.filter(coach=user).exists() else UNASSIGNED


def by_coach(enrolments: QuerySet, coach: str) -> QuerySet:
    if coach == EVERYONE:
        return enrolments
    if coach == UNASSIGNED:
        return enrolments.filter(coach__isnull=True)
    return enrolments.filter(coach_id=int(coach))


def entries(user, enrolments: Iterable[Enrolment]) -> list[Entry]:
    """The loaded enrolments (of `annotated`, with their rows) as this viewer sees them. A row
    not built yet (enrolments written around the model layer) is built now."""
    enrolments = list(enrolments)
    missing = [e.pk for e in enrolments if not hasattr(e, "standing")]
    built = {}
    if missing:
        client_status.refresh(missing, timezone.now())
        built = ClientStatus.objects.in_bulk(missing)
    return [
        Entry(
            e,
            built.get(e.pk) or e.standing,
            e.failing,
            health_hidden=not roles.sees_health_data(user, e),
        )
        for e in enrolments
    ]


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


class CountedPaginator(Paginator):
    """A paginator told the count it would otherwise ask the database for again."""

    def __init__(self, object_list, per_page, count: int):
        super().__init__(object_list, per_page)
        self.__dict__["count"] = count  # fills Paginator.count, a cached_property


# What a page's row shows, loaded as plain values: model instances cost more than the query.
PAGE_COLUMNS = (
    "pk",
    "coach_id",
    "status",
    "start_date",
    "failing",
    "unread",
    "user__first_name",
    "user__last_name",
    "user__email",
    "program__name",
    "program__weeks",
    "standing__pk",
    *(
        f"standing__{name}"
        for name in (
            "week",
            "started",
            "finished",
            "progress_percent",
            "recent_done",
            "recent_expected",
            "recent_percent",
            "overall_done",
            "overall_expected",
            "overall_percent",
            "last_activity",
            "last_pain",
            "pains",
        )
    ),
    *(f"standing__{flag}" for flag in standing.STORED_FLAGS),
)


def page_of(found: Listing, asked, user) -> Page:
    """The page `asked` for, read as Paginator.get_page reads it (the first if not a number,
    the last if out of range): each client's PAGE_COLUMNS, with `unread`, her messages her
    coach has not read. Its paginator has `flagged` too.

    Two queries: the sorted one takes only ids, and counts the matches and the flagged ones
    on the way (window counts), so that it carries a few narrow columns through the sort of
    all her clients; the second loads the page's rows by id."""
    window = found.clients.annotate(
        matching=Window(Count("pk")),
        matching_flagged=Window(Count("pk", filter=Q(shown_rank__gt=0))),
    ).values_list("pk", "matching", "matching_flagged")
    try:
        number = int(asked or 1)
    except (TypeError, ValueError):
        number = 1
    ids = list(window[(number - 1) * PER_PAGE : number * PER_PAGE]) if number >= 1 else []
    if not ids and number != 1:
        number = max(-(-found.clients.count() // PER_PAGE), 1)
        ids = list(window[(number - 1) * PER_PAGE : number * PER_PAGE])
    count, flagged = ids[0][1:] if ids else (0, 0)
    ids = [pk for pk, _, _ in ids]
    rows = page_rows(ids, user)
    missing = [row["pk"] for row in rows if row["standing__pk"] is None]
    if missing:  # enrolments written around the model layer: their rows are built now
        client_status.refresh(missing, timezone.now())
        rows = page_rows(ids, user)
    paginator = CountedPaginator(found.clients, PER_PAGE, count)
    paginator.flagged = flagged
    return Page(rows, number, paginator)


def page_rows(ids: list[int], user) -> list[dict]:
    """The PAGE_COLUMNS of the enrolments `ids`, in that order."""
    unread = conversation.unread_for_coach_of(OuterRef("pk"))
    if user.is_staff:
        # Her unread messages are counted for her coach alone: the thread is hers and her
        # coach's.
        unread = Case(When(coach_id=user.pk, then=unread), default=Value(0))
    rows = Enrolment.objects.filter(pk__in=ids).annotate(
        failing=client_status.failing(), unread=unread
    )
    by_id = {row["pk"]: row for row in rows.values(*PAGE_COLUMNS)}
    return [by_id[pk] for pk in ids if pk in by_id]


def shown_rows(page: Page, user, client_url: str) -> list[dict]:
    """What each row of the page shows, worked out in one pass here rather than by the
    template's tags and filters, which cost most of the page's time. Numbers are text
    already: the template would localize each."""
    shown = []
    dates: dict[tuple, str] = {}  # her clients share a few dates, each slow to format

    def day(value, format: str) -> str:
        if (value, format) not in dates:
            dates[value, format] = dateformat.format(value, format)
        return dates[value, format]

    for row in page:
        health_hidden = not roles.sees_health_data_of(user, row["coach_id"])
        stored = [flag for flag in standing.STORED_FLAGS if row[f"standing__{flag}"]]
        flags = shown_flags(stored, row["failing"], health_hidden)
        if row["standing__started"]:
            week = f"Week {row['standing__week']} of {row['program__weeks']}"
        else:
            week = f"Starts {day(row['start_date'], 'j M')}"
        if row["standing__finished"]:
            week += " · finished"
        if row["status"] != Enrolment.Status.ACTIVE:
            week += f" · {Enrolment.Status(row['status']).label.lower()}"
        pains = () if health_hidden else row["standing__pains"]
        last_activity = row["standing__last_activity"]
        full_name = f"{row['user__first_name']} {row['user__last_name']}".strip()
        shown.append(
            {
                "pk": str(row["pk"]),
                "url": f"{client_url}{row['pk']}/",
                "name": full_name or row["user__email"],  # as `name_of`
                "email": row["user__email"],
                "unread": row["unread"],
                "program": row["program__name"],
                "week": week,
                "progress": str(row["standing__progress_percent"]),
                "recent": (
                    f"{row['standing__recent_done']}/{row['standing__recent_expected']} "
                    f"({row['standing__recent_percent']}%)"
                ),
                "overall": (
                    f"{row['standing__overall_done']}/{row['standing__overall_expected']} "
                    f"({row['standing__overall_percent']}%)"
                ),
                "last_activity": day(last_activity, "j M Y") if last_activity else "",
                "health_hidden": health_hidden,
                "last_pain": str(row["standing__last_pain"]),
                "chart": charts.pain_line(pains) if pains else None,
                "flags": [(flag, FLAG_LABELS[flag]) for flag in flags],
                "urgent": Flag.URGENT in flags,
            }
        )
    return shown


def filter_fields(form: ClientFilter) -> dict[str, dict]:
    """The filter form's fields as the template draws them, by name: label and value, and
    for a choice its options as (value, label, selected). Plain markup in the template costs
    a fraction of the widgets' templates."""
    fields = {}
    for name, field in form.fields.items():
        value = form.data.get(name) or ""
        fields[name] = {"label": field.label, "value": value}
        if name == "program":
            choices = [("", field.empty_label), *Program.objects.values_list("slug", "name")]
        else:
            choices = getattr(field, "choices", None)
        if choices is not None:
            fields[name]["options"] = [(str(v), label, str(v) == value) for v, label in choices]
    return fields


def _show(request, found: Listing, title: str, here: str, csv_url: str):
    for sentence in found.ignored:
        messages.warning(request, sentence)
    page = page_of(found, request.GET.get("page"), request.user)
    count = page.paginator.count
    return render(
        request,
        "coach/dashboard.html",
        {
            "title": title,
            "here": here,
            "csv_url": csv_url,
            "filters": filter_fields(found.form),
            "query": found.query,
            "page": page,
            # The client page's address, less her id.
            "rows": shown_rows(page, request.user, reverse("client", args=[0]).removesuffix("0/")),
            "count": count,
            "flagged": page.paginator.flagged,
            "has_clients": bool(count) or found.scope.exists(),
            # Shares the pause form: a required text box would stop a pause from being sent.
            "bulk_message_form": BulkMessageForm(
                enrolments=Enrolment.objects.none(), use_required_attribute=False
            ),
            "sorts": sort_links(found.query, found.form.cleaned_data["sort"] or "flags"),
        },
    )


@coach_required
def dashboard(request):
    """A coach's clients (staff: the coach they choose)."""
    return _show(request, listing(request), "Clients", reverse("dashboard"), reverse("export_csv"))


@staff_required
def clinic(request):
    """Every enrolment in the clinic, for staff, with the dashboard's filters."""
    found = listing(request, everyone=True)
    return _show(request, found, "Clinic", reverse("clinic"), reverse("clinic_csv"))


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


def csv_cells(entry: Entry) -> list:
    enrolment, status = entry.enrolment, entry.status
    return [
        name_of(enrolment.user),
        enrolment.user.email,
        enrolment.program.name,
        status.week,
        enrolment.program.weeks,
        enrolment.status,
        status.recent_percent,
        status.overall_percent,
        status.last_activity.isoformat() if status.last_activity else "",
        entry.last_pain,
        "; ".join(FLAG_LABELS[flag] for flag in entry.flags),
    ]


class Echo:
    """A file that hands back what is written to it, for csv.writer to stream through."""

    def write(self, value: str) -> str:
        return value


def csv_lines(user, enrolments: QuerySet) -> Iterator[str]:
    """The CSV, a line at a time, loading CSV_CHUNK rows at a time."""
    writer = csv.writer(Echo())
    yield writer.writerow(CSV_HEADER)
    chunk = []
    rows = enrolments.select_related("user", "program", "standing").iterator(CSV_CHUNK)
    for enrolment in rows:
        chunk.append(enrolment)
        if len(chunk) == CSV_CHUNK:
            yield from _csv_chunk(writer, user, chunk)
            chunk = []
    yield from _csv_chunk(writer, user, chunk)


def _csv_chunk(writer, user, chunk: list[Enrolment]) -> Iterator[str]:
    for entry in entries(user, chunk):
        yield writer.writerow([spreadsheet_safe(cell) for cell in csv_cells(entry)])


def _export(request, found: Listing) -> StreamingHttpResponse:
    return StreamingHttpResponse(
        csv_lines(request.user, found.clients),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="clients.csv"'},
    )


@coach_required
def export_csv(request):
    """The dashboard's clients, filtered as on screen, as CSV."""
    return _export(request, listing(request))


@staff_required
def clinic_csv(request):
    """The clinic's enrolments, filtered as on screen, as CSV."""
    return _export(request, listing(request, everyone=True))
