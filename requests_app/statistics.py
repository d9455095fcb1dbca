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

Every number is an aggregate in the database, grouped there: one query per table (the total,
the months, each breakdown) counts and, on PostgreSQL, takes the percentiles with
`percentile_cont`, all from the request rows alone, read on the `illrequest_statistics` index
(request date, covering the columns grouped by). SQLite has no percentile: there the durations
alone are read and the same interpolation is done in Python — fine for the small data sets
SQLite is used for.
"""

import csv
import datetime
import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
)
from django.db.models.functions import TruncMonth
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.statements import BOM, text_cell
from readers.models import ReaderType

from .charts import bar_chart
from .models import IllRequest, ServiceType, Supplier
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


class PercentileCont(Aggregate):
    """PostgreSQL's `percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)`."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=float(fraction), **extra)


def percentile(sorted_values: list, fraction: float):
    """`percentile_cont` in Python: linear interpolation between the two nearest ranks."""
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


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# Counted on `status` (never empty), not the primary key: the columns read are all in the
# `illrequest_statistics` index, so PostgreSQL never visits the table.
_COUNTS = {
    "requests": Count("status"),
    "outcomes": Count("status", filter=Q(status__in=sorted(OUTCOME_STATUSES))),
    "supplied": Count("status", filter=Q(status__in=sorted(SUPPLIED_STATUSES))),
}


class _Numbers:
    """The queries of one date range: one per table, each over the range's requests alone (the
    `illrequest_statistics` index), grouped by `key`, a request field path (or "month")."""

    def __init__(self, start: datetime.date, end: datetime.date):
        since, until = _local_midnight(start), _local_midnight(end + datetime.timedelta(days=1))
        self.requests = IllRequest.objects.filter(
            submitted_at__gte=since, submitted_at__lt=until
        ).order_by()
        self.postgres = connection.vendor == "postgresql"

    def grouped(self, key) -> list[dict]:
        """[{key, requests, outcomes, supplied, median, p90}] for each value of `key`."""
        if key == "month":
            requests = self.requests.annotate(key=TruncMonth("submitted_at"))
        elif key is not None:
            requests = self.requests.annotate(key=F(key))
        else:
            requests = self.requests
        aggregates = dict(_COUNTS)
        if self.postgres:
            # percentile_cont leaves out the NULL turnaround of requests not supplied.
            aggregates["median"] = PercentileCont(_TURNAROUND, 0.5, output_field=DurationField())
            aggregates["p90"] = PercentileCont(_TURNAROUND, 0.9, output_field=DurationField())
        if key is None:
            groups = [{"key": None, **requests.aggregate(**aggregates)}]
        else:
            groups = list(requests.values("key").annotate(**aggregates))
        if not self.postgres:
            self._add_percentiles(requests, key, groups)
        return groups

    @staticmethod
    def _add_percentiles(requests, key, groups):
        """SQLite's fallback: the durations alone, interpolated as percentile_cont does."""
        supplied = requests.filter(supplied_at__isnull=False).annotate(turnaround=_TURNAROUND)
        if key is None:
            pairs = ((None, value) for value in supplied.values_list("turnaround", flat=True))
        else:
            pairs = supplied.values_list("key", "turnaround")
        durations = {}
        for group, value in pairs:
            durations.setdefault(group, []).append(value)
        for group in groups:
            values = sorted(durations.get(group["key"], []))
            group["median"] = percentile(values, 0.5)
            group["p90"] = percentile(values, 0.9)

    def rows(self, key, label) -> list[Row]:
        return [_row(group, label(group["key"])) for group in self.grouped(key)]


_TURNAROUND = ExpressionWrapper(F("supplied_at") - F("submitted_at"), output_field=DurationField())


def _row(group: dict, label: str) -> Row:
    return Row(
        key=group["key"],
        label=label,
        requests=group["requests"],
        outcomes=group["outcomes"],
        supplied=group["supplied"],
        median=group.get("median"),
        p90=group.get("p90"),
    )


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


# Each table's percentiles sort its range's durations: enough memory for a year at 2,000,000
# requests to sort without spilling to disk, for these queries only.
SORT_MEMORY = "64MB"


def request_statistics(*, start: datetime.date, end: datetime.date) -> Statistics:
    """The statistics of the requests submitted from `start` to `end`, both included."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = %s", [SORT_MEMORY])
        return _statistics(start, end)


def _statistics(start: datetime.date, end: datetime.date) -> Statistics:
    numbers = _Numbers(start, end)
    [total] = numbers.rows(None, lambda _key: gettext("All requests"))

    by_month = {}
    for row in numbers.rows("month", str):
        month = timezone.localtime(row.key) if timezone.is_aware(row.key) else row.key
        by_month[(month.year, month.month)] = row
    months = []
    for index in range(_month_index(start), _month_index(end) + 1):
        year, month = divmod(index, 12)
        label = f"{year}-{month + 1:02d}"
        row = by_month.get((year, month + 1)) or Row(key=None, label=label)
        row.label = label
        months.append(row)

    breakdowns = [
        Breakdown(
            "service_type",
            gettext("By service type"),
            gettext("Service type"),
            _by_requests(numbers.rows("service_type", _choice_label(ServiceType, ""))),
        ),
        Breakdown(
            "reader_type",
            gettext("By reader type"),
            gettext("Reader type"),
            _by_requests(
                numbers.rows(
                    "reader__reader_type",
                    _choice_label(ReaderType, gettext("Old system, not linked to a reader")),
                )
            ),
        ),
        Breakdown("supplier", gettext("By supplier"), gettext("Supplier"), _supplier_rows(numbers)),
        _institutions(numbers),
    ]
    return Statistics(start=start, end=end, total=total, months=months, breakdowns=breakdowns)


def _by_requests(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: (-row.requests, row.label))


def _supplier_rows(numbers: _Numbers) -> list[Row]:
    rows = numbers.rows("supplier", str)
    names = {
        supplier.pk: supplier.name
        for supplier in Supplier.objects.filter(pk__in=[row.key for row in rows if row.key])
    }
    for row in rows:
        row.label = names.get(row.key) or gettext("No supplier recorded")
    return _by_requests(rows)


def _institutions(numbers: _Numbers) -> Breakdown:
    """The institutions with the most requests, a row each; the others summed in one row (no
    turnaround: medians do not add up)."""
    groups = sorted(
        numbers.grouped("reader__institution"),
        key=lambda group: (-group["requests"], str(group["key"] or "")),
    )
    top, rest = groups[:TOP_INSTITUTIONS], groups[TOP_INSTITUTIONS:]
    not_given = gettext("Not given")
    rows = [_row(group, group["key"] or not_given) for group in top]
    note = ""
    if rest:
        rows.append(
            Row(
                key=None,
                label=gettext("%(count)d other institutions") % {"count": len(rest)},
                requests=sum(group["requests"] for group in rest),
                outcomes=sum(group["outcomes"] for group in rest),
                supplied=sum(group["supplied"] for group in rest),
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
        gettext("Requests"),
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
