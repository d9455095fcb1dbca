"""The ILL office's dashboard, the admin's index page: the open queues with their counts, each
linking to its filtered list; today's and this week's new and finished requests; open requests
past their valid-until date.

It lives in the top app because it counts requests, registrations and balances; the admin site
shows it through `illgateway/admin.py`. Every count reads open requests only, on the partial
indexes of `IllRequest.Meta.indexes`, so the page costs the same at 2,000,000 requests.
"""

import datetime
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Account
from readers.models import Reader, ReaderStatus

from .models import IllRequest, StatusChange
from .statistics import PERMISSION as STATISTICS_PERMISSION
from .statuses import CLOSED_STATUSES, OPEN_STATUSES, Status

# The queues of requests the office works through, in the order of the lifecycle.
REQUEST_QUEUES = [
    Status.SUBMITTED,
    Status.IN_PROCESS,
    Status.AWAITING_COST_APPROVAL,
    Status.AWAITING_PAYMENT,
]


def _changelist(viewname: str, **params) -> str:
    url = reverse(viewname)
    return f"{url}?{urlencode(params)}" if params else url


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def dashboard(user) -> dict:
    """What the dashboard shows to `user`: only what their permissions let them open."""
    queues = []
    periods = []
    overdue = None
    if user.has_perm("requests_app.view_illrequest"):
        counts = dict(
            IllRequest.objects.filter(status__in=REQUEST_QUEUES)
            .values_list("status")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for status in REQUEST_QUEUES:
            queues.append(
                {
                    "label": status.label,
                    "count": counts.get(status.value, 0),
                    "url": _changelist(
                        "admin:requests_app_illrequest_changelist", status__exact=status.value
                    ),
                }
            )
        queues.append(
            {
                "label": _("Cancellation requested"),
                "count": IllRequest.objects.filter(
                    cancellation_requested=True, status__in=OPEN_STATUSES
                ).count(),
                "url": _changelist(
                    "admin:requests_app_illrequest_changelist",
                    cancellation_requested__exact=1,
                    status__in=",".join(sorted(OPEN_STATUSES)),
                ),
            }
        )
        today = timezone.localdate()
        overdue = {
            "count": IllRequest.objects.filter(
                status__in=OPEN_STATUSES, valid_until__lt=today
            ).count(),
            "url": _changelist("admin:requests_app_illrequest_changelist", overdue="yes"),
        }
        periods = _periods(today)
    if user.has_perm("readers.view_registrationtoconfirm"):
        queues.append(
            {
                "label": _("Registrations to confirm"),
                "count": Reader.objects.filter(status=ReaderStatus.PENDING).count(),
                "url": _changelist("admin:readers_registrationtoconfirm_changelist"),
            }
        )
    if user.has_perm("accounts.view_account"):
        queues.append(
            {
                "label": _("Readers owing money"),
                "count": Account.objects.filter(balance__lt=0).count(),
                "url": _changelist("admin:accounts_account_changelist", owing="yes"),
            }
        )
    statistics = reverse("request_statistics") if user.has_perm(STATISTICS_PERMISSION) else None
    return {"queues": queues, "periods": periods, "overdue": overdue, "statistics": statistics}


def _periods(today: datetime.date) -> list[dict]:
    day_start = _local_midnight(today)
    week_start = _local_midnight(today - datetime.timedelta(days=today.weekday()))
    new = IllRequest.objects.filter(submitted_at__gte=week_start).aggregate(
        week=Count("pk"), today=Count("pk", filter=Q(submitted_at__gte=day_start))
    )
    finished = StatusChange.objects.filter(
        at__gte=week_start, to_status__in=CLOSED_STATUSES
    ).aggregate(week=Count("pk"), today=Count("pk", filter=Q(at__gte=day_start)))
    changelist = "admin:requests_app_illrequest_changelist"
    return [
        {
            "label": _("Today"),
            "new": new["today"],
            "new_url": _changelist(changelist, submitted_at__gte=day_start.isoformat()),
            "finished": finished["today"],
        },
        {
            "label": _("This week"),
            "new": new["week"],
            "new_url": _changelist(changelist, submitted_at__gte=week_start.isoformat()),
            "finished": finished["week"],
        },
    ]
