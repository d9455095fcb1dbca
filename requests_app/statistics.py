"""The ILL office's statistics (SPEC 6): for requests submitted in a date range, how many per
month, the fill rate and the turnaround, overall and by service type, reader type, supplier and
institution; as a page with charts and tables (`statistics_view`) and as CSV.

Definitions (the page and the README say the same):

- A request counts in the month (and the range) it was submitted, in the portal's time zone.
- **Fill rate** = requests supplied (delivered, on loan or returned) ÷ requests with an
  outcome (those, plus unfilled, cancelled and expired). Requests still open (submitted, in
  process, awaiting cost approval or payment) are left out of both.
- **Turnaround** = from submission to the moment the request became delivered or on loan
  (`IllRequest.supplied_at`, set by the lifecycle; filled from the history for older requests);
  median and 90th percentile, in days. Requests without it (not supplied yet, or imported from
  the old system without history) are left out.

How it stays fast at millions of requests with exact numbers: the range is cut into calendar
months (the first and last possibly partial). Each month's numbers — counts per group and every
supplied request's turnaround, sorted, in microseconds — are kept in `StatisticsMonth` with the
month's bounds and the `StatisticsVersion` counters they were computed under; PostgreSQL
triggers bump those counters on any change to a request the statistics count (submitted,
changed, deleted) or to a reader's type or institution. A kept month is used while its bounds
and counters are unchanged; the others are read from the requests in one query, counted here
and kept. Percentiles over the range are then taken exactly from the months' sorted runs (the
k-th value found by bisection, then `percentile_cont`'s interpolation): the same numbers as one
`percentile_cont` over the whole range. SQLite (no triggers) reads every month afresh.
"""

import csv
import datetime
import math
import sys
from array import array
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Case, DurationField, ExpressionWrapper, F, IntegerField, Q, When
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from accounts.statements import BOM, text_cell
from readers.models import ReaderType

from .charts import bar_chart
from .models import IllRequest, ServiceType, StatisticsMonth, StatisticsVersion, Supplier
from .statuses import OUTCOME_STATUSES, SUPPLIED_STATUSES

# The widest range the page shows month by month.
MAX_MONTHS = 120
FIRST_YEAR = 1990
LAST_YEAR = 2100
# The institutions with the most requests get a row each; the rest share one.
TOP_INSTITUTIONS = 20

PERMISSION = "requests_app.view_illrequest"


# --- The date range ------------------------------------------------------------------------


def default_range(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last twelve months: from the first day of the month eleven months ago to today."""
    months = today.year * 12 + today.month - 1 - 11
    return datetime.date(months // 12, months % 12 + 1, 1), today


class StatisticsForm(forms.Form):
    start = forms.DateField(
        label=_("From"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    end = forms.DateField(
        label=_("To (inclusive)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def _clean_year(self, name):
        value = self.cleaned_data[name]
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise forms.ValidationError(
                gettext("Enter a date between %(first)s and %(last)s.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR}
            )
        return value

    def clean_start(self):
        return self._clean_year("start")

    def clean_end(self):
        return self._clean_year("end")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", gettext("The end date is before the start date."))
            elif _month_index(end) - _month_index(start) >= MAX_MONTHS:
                self.add_error(
                    "end",
                    gettext("Choose at most %(months)d months.") % {"months": MAX_MONTHS},
                )
        return cleaned


def statistics_form(params) -> StatisticsForm:
    """The form bound to the address's range, or to the default range when it names none."""
    if "start" in params or "end" in params:
        return StatisticsForm(params)
    start, end = default_range(timezone.localdate())
    return StatisticsForm({"start": start.isoformat(), "end": end.isoformat()})


# --- The numbers -----------------------------------------------------------------------------


def percentile(sorted_values: list, fraction: float):
    """PostgreSQL's `percentile_cont`: linear interpolation between the two nearest ranks."""
    if not sorted_values:
        return None
    position = fraction * (len(sorted_values) - 1)
    lower, upper = math.floor(position), math.ceil(position)
    low, high = sorted_values[lower], sorted_values[upper]
    return low + (high - low) * (position - lower)


@dataclass
class Row:
    key: object
    label: str
    requests: int = 0
    outcomes: int = 0
    supplied: int = 0
    median: datetime.timedelta | None = None
    p90: datetime.timedelta | None = None

    @property
    def fill_rate(self) -> Decimal | None:
        """Percent, one decimal; None without any request with an outcome."""
        if not self.outcomes:
            return None
        return (Decimal(100 * self.supplied) / self.outcomes).quantize(
            Decimal("0.1"), ROUND_HALF_UP
        )

    @property
    def median_days(self) -> Decimal | None:
        return _days(self.median)

    @property
    def p90_days(self) -> Decimal | None:
        return _days(self.p90)


def _days(duration: datetime.timedelta | None) -> Decimal | None:
    if duration is None:
        return None
    return (Decimal(duration.total_seconds()) / 86400).quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass
class Breakdown:
    name: str
    title: str
    group_label: str
    rows: list[Row] = field(default_factory=list)
    note: str = ""


def _month_index(day) -> int:
    return day.year * 12 + day.month - 1


def _month_start(index: int) -> datetime.date:
    return datetime.date(index // 12, index % 12 + 1, 1)


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- One piece of the range: its numbers (`Tally`) --------------------------------------------

# The breakdowns a tally counts, besides the total ("total", None): (name, request field path).
DIMENSIONS = [
    ("service_type", "service_type"),
    ("reader_type", "reader__reader_type"),
    ("supplier", "supplier_id"),
    ("institution", "reader__institution"),
]
_NAMES = [name for name, _path in DIMENSIONS]
_TURNAROUND = ExpressionWrapper(F("supplied_at") - F("submitted_at"), output_field=DurationField())
_MICROSECONDS = 1_000_000


def _microseconds(duration: datetime.timedelta) -> int:
    return (duration.days * 86400 + duration.seconds) * _MICROSECONDS + duration.microseconds


@dataclass
class Piece:
    """A month of the range, or the part of it inside the range (the current month: up to the
    end of the range's last day). Its numbers depend on its requests alone, so they are kept in
    `StatisticsMonth` (PostgreSQL only) with its bounds and the counters they were computed
    under; a kept month of other bounds (another range) is computed afresh and replaces it."""

    month: datetime.date
    since: datetime.datetime
    until: datetime.datetime
    versions: str = ""


@dataclass
class Tally:
    """The numbers of one piece: for each (breakdown, group) — ("total", None) among them — the
    counts [requests, with an outcome, supplied] and the sorted turnarounds in microseconds."""

    counts: dict = field(default_factory=dict)
    durations: dict = field(default_factory=dict)

    def packed(self) -> tuple[list, bytes]:
        """For `StatisticsMonth`: the counts as JSON, the turnarounds as one run of bytes."""
        counts, runs = [], array("q")
        for (name, key), (requests, outcomes, supplied) in self.counts.items():
            run = self.durations.get((name, key), ())
            counts.append([name, key, requests, outcomes, supplied, len(runs), len(run)])
            runs.extend(run)
        if sys.byteorder == "big":
            runs.byteswap()
        return counts, runs.tobytes()

    @classmethod
    def unpacked(cls, counts: list, data: bytes) -> "Tally":
        runs = array("q")
        runs.frombytes(bytes(data))
        if sys.byteorder == "big":
            runs.byteswap()
        tally = cls()
        for name, key, requests, outcomes, supplied, first, length in counts:
            tally.counts[(name, key)] = [requests, outcomes, supplied]
            if length:
                tally.durations[(name, key)] = runs[first : first + length]
        return tally


def _pieces(start: datetime.date, end: datetime.date) -> list[Piece]:
    pieces = []
    for index in range(_month_index(start), _month_index(end) + 1):
        first, following = _month_start(index), _month_start(index + 1)
        since = _local_midnight(max(first, start))
        until = _local_midnight(min(following, end + datetime.timedelta(days=1)))
        pieces.append(Piece(first, since, until))
    return pieces


# The readers' counter (their type or institution changed): see models.StatisticsVersion.
READERS_VERSION = datetime.date(1900, 1, 1)
# Part of every kept month's versions: a change of the definitions (this number) or of the
# portal's time zone makes the kept months stale.
CACHE_FORMAT = 1


def _versions(piece: Piece, counters: dict) -> str:
    """What a piece's numbers depend on: its bounds, and the counters of the UTC months its
    requests were submitted in and of the readers."""
    first = piece.since.astimezone(datetime.UTC)
    last = (piece.until - datetime.timedelta(microseconds=1)).astimezone(datetime.UTC)
    months = [_month_start(index) for index in range(_month_index(first), _month_index(last) + 1)]
    parts = [f"{month:%Y-%m}={counters.get(month, 0)}" for month in [READERS_VERSION, *months]]
    bounds = f"{piece.since.isoformat()}/{piece.until.isoformat()}"
    return f"{CACHE_FORMAT};{settings.TIME_ZONE};{bounds};" + ";".join(parts)


def _tallies(pieces: list[Piece]) -> list[Tally]:
    """Each piece's numbers: kept months from `StatisticsMonth` while their counters have not
    moved; the rest from the requests, in one query, and kept."""
    caching = connection.vendor == "postgresql"  # the counters' triggers are PostgreSQL's
    kept = {}
    cacheable = pieces if caching else []
    if cacheable:
        # The counters first: a change committed after them makes the kept month stale.
        counters = dict(StatisticsVersion.objects.values_list("month", "version"))
        for piece in cacheable:
            piece.versions = _versions(piece, counters)
        wanted = {piece.month: piece.versions for piece in cacheable}
        for month in StatisticsMonth.objects.filter(month__in=wanted):
            if month.versions == wanted[month.month]:
                kept[month.month] = Tally.unpacked(month.counts, month.durations)
    missing = [piece for piece in pieces if piece.month not in kept]
    if missing:
        fresh = _tallies_from_requests(missing)
        kept.update(fresh)
        to_keep = [
            StatisticsMonth(
                month=piece.month, versions=piece.versions, **_packed(fresh[piece.month])
            )
            for piece in missing
            if caching
        ]
        if to_keep:
            StatisticsMonth.objects.bulk_create(
                to_keep,
                update_conflicts=True,
                unique_fields=["month"],
                update_fields=["versions", "counts", "durations"],
            )
    return [kept[piece.month] for piece in pieces]


def _packed(tally: Tally) -> dict:
    counts, durations = tally.packed()
    return {"counts": counts, "durations": durations}


def _tallies_from_requests(pieces: list[Piece]) -> dict:
    """The pieces' numbers from their requests, read in one query: the rows are counted by
    their (piece, status, groups) first (in C, by `Counter`), then each distinct combination
    is added to its groups; the supplied requests' turnarounds likewise."""
    within = Q()
    for piece in pieces:
        within |= Q(submitted_at__gte=piece.since, submitted_at__lt=piece.until)
    which_piece = Case(
        *(When(submitted_at__lt=piece.until, then=index) for index, piece in enumerate(pieces)),
        output_field=IntegerField(),
    )
    rows = list(
        IllRequest.objects.filter(within)
        .order_by()
        .annotate(piece=which_piece, turnaround=_TURNAROUND)
        .values_list("piece", "status", *(path for _name, path in DIMENSIONS), "turnaround")
    )
    combinations = Counter(map(itemgetter(slice(0, -1)), rows))
    durations = defaultdict(list)
    for index, _status, *keys, turnaround in rows:
        if turnaround is not None:
            durations[(index, *keys)].append(_microseconds(turnaround))

    tallies = [Tally() for _piece in pieces]
    for (index, status, *keys), requests in combinations.items():
        outcomes = requests if status in OUTCOME_STATUSES else 0
        supplied = requests if status in SUPPLIED_STATUSES else 0
        counts = tallies[index].counts
        for group in (("total", None), *zip(_NAMES, keys, strict=True)):
            tally = counts.get(group)
            if tally is None:
                counts[group] = [requests, outcomes, supplied]
            else:
                tally[0] += requests
                tally[1] += outcomes
                tally[2] += supplied
    runs = [defaultdict(list) for _piece in pieces]
    for (index, *keys), values in durations.items():
        for group in (("total", None), *zip(_NAMES, keys, strict=True)):
            runs[index][group].extend(values)
    for tally, piece_runs in zip(tallies, runs, strict=True):
        tally.durations = {group: array("q", sorted(run)) for group, run in piece_runs.items()}
    return {piece.month: tally for piece, tally in zip(pieces, tallies, strict=True)}


# --- The range's numbers, from its pieces' -----------------------------------------------------


def _kth(runs: list, k: int) -> int:
    """The k-th smallest (from 0) of the values of sorted runs, without merging them: the
    smallest value with more than k values at or below it."""
    if len(runs) == 1:
        return runs[0][k]
    low, high = min(run[0] for run in runs), max(run[-1] for run in runs)
    while low < high:
        middle = (low + high) // 2
        if sum(bisect_right(run, middle) for run in runs) > k:
            high = middle
        else:
            low = middle + 1
    return low


def runs_percentile(runs: list, fraction: float) -> datetime.timedelta | None:
    """`percentile` of the sorted runs' values taken together, as a duration."""
    runs = [run for run in runs if len(run)]
    count = sum(len(run) for run in runs)
    if not count:
        return None
    position = fraction * (count - 1)
    lower, upper = math.floor(position), math.ceil(position)
    low = datetime.timedelta(microseconds=_kth(runs, lower))
    high = datetime.timedelta(microseconds=_kth(runs, upper))
    return low + (high - low) * (position - lower)


@dataclass
class _Group:
    key: object
    requests: int = 0
    outcomes: int = 0
    supplied: int = 0
    runs: list = field(default_factory=list)

    def row(self, label: str, *, turnaround: bool = True) -> Row:
        return Row(
            key=self.key,
            label=label,
            requests=self.requests,
            outcomes=self.outcomes,
            supplied=self.supplied,
            median=runs_percentile(self.runs, 0.5) if turnaround else None,
            p90=runs_percentile(self.runs, 0.9) if turnaround else None,
        )


def _groups(tallies: list[Tally], name: str) -> list[_Group]:
    """A breakdown's groups over the pieces: counts added, turnarounds kept as runs."""
    groups = {}
    for tally in tallies:
        for (dimension, key), (requests, outcomes, supplied) in tally.counts.items():
            if dimension != name:
                continue
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(key)
            group.requests += requests
            group.outcomes += outcomes
            group.supplied += supplied
            run = tally.durations.get((dimension, key))
            if run is not None:
                group.runs.append(run)
    return list(groups.values())


def _choice_label(choices, missing):
    def label(value):
        if value in choices.values:
            return str(choices(value).label)
        return str(missing) if value in (None, "") else value

    return label


@dataclass
class Statistics:
    start: datetime.date
    end: datetime.date
    total: Row
    months: list[Row]
    breakdowns: list[Breakdown]


def request_statistics(*, start: datetime.date, end: datetime.date) -> Statistics:
    """The statistics of the requests submitted from `start` to `end`, both included."""
    pieces = _pieces(start, end)
    tallies = _tallies(pieces)
    [total] = _groups(tallies, "total") or [_Group(None)]
    months = []
    for piece, tally in zip(pieces, tallies, strict=True):
        [month] = _groups([tally], "total") or [_Group(None)]
        months.append(month.row(f"{piece.month:%Y-%m}"))

    def rows(name, label):
        return _by_requests([group.row(label(group.key)) for group in _groups(tallies, name)])

    breakdowns = [
        Breakdown(
            "service_type",
            gettext("By service type"),
            gettext("Service type"),
            rows("service_type", _choice_label(ServiceType, "")),
        ),
        Breakdown(
            "reader_type",
            gettext("By reader type"),
            gettext("Reader type"),
            rows(
                "reader_type",
                _choice_label(ReaderType, gettext("Old system, not linked to a reader")),
            ),
        ),
        Breakdown("supplier", gettext("By supplier"), gettext("Supplier"), _supplier_rows(tallies)),
        _institutions(tallies),
    ]
    return Statistics(
        start=start,
        end=end,
        total=total.row(gettext("All requests")),
        months=months,
        breakdowns=breakdowns,
    )


def _by_requests(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: (-row.requests, row.label))


def _supplier_rows(tallies: list[Tally]) -> list[Row]:
    groups = _groups(tallies, "supplier")
    names = {
        supplier.pk: supplier.name
        for supplier in Supplier.objects.filter(pk__in=[group.key for group in groups if group.key])
    }
    none = gettext("No supplier recorded")
    return _by_requests([group.row(names.get(group.key) or none) for group in groups])


def _institutions(tallies: list[Tally]) -> Breakdown:
    """The institutions with the most requests, a row each; the others summed in one row (no
    turnaround: medians do not add up)."""
    groups = sorted(
        _groups(tallies, "institution"),
        key=lambda group: (-group.requests, str(group.key or "")),
    )
    top, rest = groups[:TOP_INSTITUTIONS], groups[TOP_INSTITUTIONS:]
    not_given = gettext("Not given")
    rows = [group.row(group.key or not_given) for group in top]
    note = ""
    if rest:
        rows.append(
            Row(
                key=None,
                label=gettext("%(count)d other institutions") % {"count": len(rest)},
                requests=sum(group.requests for group in rest),
                outcomes=sum(group.outcomes for group in rest),
                supplied=sum(group.supplied for group in rest),
            )
        )
        note = gettext(
            "The %(top)d institutions with the most requests; the others share the last row, "
            "without turnaround."
        ) % {"top": TOP_INSTITUTIONS}
    return Breakdown("institution", gettext("By institution"), gettext("Institution"), rows, note)


# --- CSV -------------------------------------------------------------------------------------


def _cell(value) -> str:
    return "" if value is None else str(value)


def csv_columns() -> list[str]:
    return [
        gettext("Breakdown"),
        gettext("Group"),
        pgettext("a count of requests", "Requests"),
        gettext("With an outcome"),
        gettext("Supplied"),
        gettext("Fill rate (%)"),
        gettext("Median turnaround (days)"),
        gettext("90th percentile turnaround (days)"),
    ]


def csv_rows(stats: Statistics):
    """The page's numbers, table by table: the total, each month, each breakdown's groups."""
    sections = [
        (gettext("Total"), [stats.total]),
        (gettext("Month"), stats.months),
        *((breakdown.title, breakdown.rows) for breakdown in stats.breakdowns),
    ]
    for section, rows in sections:
        for row in rows:
            yield [
                section,
                text_cell(row.label),
                row.requests,
                row.outcomes,
                row.supplied,
                _cell(row.fill_rate),
                _cell(row.median_days),
                _cell(row.p90_days),
            ]


class _Line:
    def write(self, value):
        return value


def statistics_csv(stats: Statistics) -> StreamingHttpResponse:
    writer = csv.writer(_Line())

    def lines():
        yield BOM + writer.writerow(csv_columns())
        for row in csv_rows(stats):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="ill-statistics-{stats.start:%Y%m%d}-{stats.end:%Y%m%d}.csv"'
    )
    return response


# --- The page (an admin view: see illgateway/urls.py) ---------------------------------------


def _sections(stats: Statistics) -> list[dict]:
    """The page's sections: a chart of the request counts beside the table of all numbers."""
    sections = [
        {
            "name": "months",
            "title": gettext("Requests per month"),
            "group_label": gettext("Month"),
            "rows": stats.months,
            "total": stats.total,
            "chart": bar_chart(
                [(row.label, row.requests) for row in stats.months],
                title=gettext("Requests per month"),
                chart_id="chart-months",
                vertical=True,
            ),
        }
    ]
    for breakdown in stats.breakdowns:
        sections.append(
            {
                "name": breakdown.name,
                "title": breakdown.title,
                "group_label": breakdown.group_label,
                "rows": breakdown.rows,
                "total": None,
                "note": breakdown.note,
                "chart": bar_chart(
                    [(row.label, row.requests) for row in breakdown.rows],
                    title=gettext("Requests: %(breakdown)s") % {"breakdown": breakdown.title},
                    chart_id=f"chart-{breakdown.name}",
                ),
            }
        )
    return sections


def statistics_view(request, *, csv_download=False):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied
    form = statistics_form(request.GET)
    stats = None
    if form.is_valid():
        stats = request_statistics(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
        if csv_download:
            return statistics_csv(stats)
    elif csv_download:
        # A hand-made address: the page says what is wrong with the range.
        return TemplateResponse(
            request, "admin/requests_app/statistics.html", _context(request, form, None), status=400
        )
    return TemplateResponse(
        request, "admin/requests_app/statistics.html", _context(request, form, stats)
    )


def _context(request, form, stats) -> dict:
    context = {
        **admin.site.each_context(request),
        "title": gettext("ILL statistics"),
        "form": form,
        "stats": stats,
    }
    if stats is not None:
        context["sections"] = _sections(stats)
        context["columns"] = csv_columns()[2:]
        context["range_label"] = gettext("%(start)s to %(end)s") % {
            "start": date_format(stats.start, "DATE_FORMAT"),
            "end": date_format(stats.end, "DATE_FORMAT"),
        }
        context["csv_url"] = (
            reverse("request_statistics_csv")
            + "?"
            + (f"start={stats.start.isoformat()}&end={stats.end.isoformat()}")
        )
    return context


def statistics_csv_view(request):
    return statistics_view(request, csv_download=True)
