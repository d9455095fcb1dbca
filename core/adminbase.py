"""What every ModelAdmin of the gateway shares: clean text in its forms, change lists that never
answer 500 to a filter value and stay fast at millions of rows, bulk actions that report on each
row."""

import datetime
import json
from collections.abc import Callable, Iterable

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters, ShowFacets
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import DataError, connections
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .audit import AuditHistoryMixin
from .forms import CleanTextModelForm


class RobustChangeList(ChangeList):
    """Django's change list, with the date hierarchy's arithmetic errors seen as bad input.

    Django reads `?<field>__year=…&__month=…&__day=…` into a datetime and catches ValueError,
    but a year like 2147483648 raises OverflowError, and year 9999 fails when it computes the
    end of the range, outside the try. Both are a bad parameter, which the admin answers by
    showing the unfiltered list with its "?e=1" notice, as for any other bad filter.
    """

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as exc:
            raise IncorrectLookupParameters(exc) from exc

    def get_results(self, request):
        # A lookup in the address (`?at__year=2147483648`) whose value the database cannot
        # hold fails only when the count runs, and a year no date has (`?at__year=99999`) when
        # the query is built: bad input too, not a 500.
        try:
            return super().get_results(request)
        except (OverflowError, ValueError, DataError) as exc:
            raise IncorrectLookupParameters(exc) from exc


# Up to this many rows a change list counts exactly; above it, PostgreSQL's estimate is shown.
EXACT_COUNT_UP_TO = 10_000


def estimated_count(queryset) -> int:
    """PostgreSQL's estimate of how many rows `queryset` returns (EXPLAIN, nothing is read)."""
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a filter no row can match (a value out of the column's range)
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):  # a driver that does not decode JSON
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """A change list's paginator that never counts millions of rows.

    On PostgreSQL it counts at most EXACT_COUNT_UP_TO + 1 rows (`LIMIT` in a subquery, so the
    cost is bounded whatever the table weighs) and, when there are more, takes the planner's
    estimate (EXPLAIN) instead: always two cheap queries. Elsewhere (SQLite, development) it
    counts.
    """

    def page(self, number):
        """The page's rows chosen first, by id, then loaded with what they show.

        Django's page query joins the related rows (`list_select_related`) of every row that
        matches before it sorts and cuts the page: thousands of joins for a search that
        matches thousands. Here the page's ids are chosen in a subquery on the table alone
        (`ORDER BY … LIMIT … OFFSET …`), and only those rows are joined: one query still.
        """
        page = super().page(number)
        rows = page.object_list
        query = rows.query
        if query.annotations or query.distinct or query.combinator or not query.order_by:
            return page
        outer = rows.model._base_manager.db_manager(rows.db).filter(pk__in=rows.values("pk"))
        outer.query.select_related = query.select_related
        outer.query.deferred_loading = query.deferred_loading
        page.object_list = outer.order_by(*query.order_by)
        return page

    @cached_property
    def count(self):
        queryset = self.object_list
        if connections[queryset.db].vendor != "postgresql":
            return super().count
        estimate = estimated_count(queryset)
        bounded = queryset.order_by().values("pk")[: EXACT_COUNT_UP_TO + 1].count()
        if bounded <= EXACT_COUNT_UP_TO:
            return bounded
        return max(estimate, bounded)


def recent_date_filter(field: str, title):
    """A list filter on a date-time column by recent periods, each a range on its index.

    Replaces Django's `date_hierarchy`, which lists the years, months and days present with a
    `SELECT DISTINCT DATE_TRUNC(…)` over every row.
    """

    class RecentDateFilter(admin.SimpleListFilter):
        parameter_name = f"{field}_since"

        def lookups(self, request, model_admin):
            return [
                ("today", _("Today")),
                ("7d", _("Past 7 days")),
                ("30d", _("Past 30 days")),
                ("year", _("This year")),
            ]

        def queryset(self, request, queryset):
            today = timezone.localdate()
            start = {
                "today": today,
                "7d": today - datetime.timedelta(days=6),
                "30d": today - datetime.timedelta(days=29),
                "year": today.replace(month=1, day=1),
            }.get(self.value())
            if start is None:
                return queryset
            moment = timezone.make_aware(datetime.datetime.combine(start, datetime.time()))
            return queryset.filter(**{f"{field}__gte": moment})

    RecentDateFilter.title = title
    RecentDateFilter.__name__ = f"RecentDateFilter_{field}"
    return RecentDateFilter


class GatewayAdminMixin(AuditHistoryMixin):
    """Put before admin.ModelAdmin (or an inline class) in every admin of the gateway.

    Its "History" page is the object's audit trail (core.audit). Its change list never counts
    the whole table (no "N total", an estimated count above EXACT_COUNT_UP_TO rows) and offers
    no facet counts, which would count every filter's values over every row.
    """

    # Text typed in the admin loses invisible characters (core.text), as in the reader's forms.
    form = CleanTextModelForm
    paginator = EstimatedCountPaginator
    # Rendering a row of the admin's list costs about a millisecond and a half: 50 rows a page
    # rather than Django's 100 halves what every page of every list costs.
    list_per_page = 50
    show_full_result_count = False
    show_facets = ShowFacets.NEVER

    def get_changelist(self, request, **kwargs):
        return RobustChangeList


def apply_to_each_row(
    modeladmin,
    request,
    rows: Iterable,
    act: Callable[[object], object],
    *,
    refused: type[Exception] | tuple[type[Exception], ...],
    done_message: str,
    **params,
) -> int:
    """A bulk action's loop: try `act(row)` on each selected row, and return how many succeeded.

    A row the rules refuse (`act` raises `refused`) is left as it was, and its reason shown as a
    warning; the others go on. If any succeeded, `done_message % {"count": n, **params}` is
    shown as a success.
    """
    done = 0
    for row in rows:
        try:
            act(row)
        except refused as exc:
            modeladmin.message_user(request, str(exc), messages.WARNING)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message % {"count": done, **params}, messages.SUCCESS)
    return done
