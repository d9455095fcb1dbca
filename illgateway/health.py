"""GET /healthz: is this application server fit to take requests? For the load balancer.

Three checks, each cheap (three small queries; tests/illgateway/test_health.py pins them):

- the database answers;
- every migration this server's code has is applied (after a deploy that forgot `migrate`, the
  new servers fail the check and the balancer keeps the old ones); the code's migrations are
  read from disk once per process (they cannot change while it runs), the applied ones are asked
  of the database on every check, so the answer is right straight after a `migrate` (about
  1 ms on PostgreSQL, where MigrationExecutor's plan takes about 22 ms);
- the oldest e-mail waiting in the queue (`db_worker`) has waited less than
  HEALTH_MAIL_MAX_AGE seconds: otherwise no worker is running, or it is stuck.

200 with `{"status": "ok", …}` when all pass, 503 with the failing check named otherwise. The
body says which check failed, never why (no error text, no host names). No session, no cookie,
never cached. It is answered by a middleware ahead of the others, so a load balancer that probes
each server by its IP address (a Host header not in ALLOWED_HOSTS) over plain HTTP gets the
answer rather than a 400 or a redirect to HTTPS.
"""

import functools
import logging
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Min, Q
from django.http import JsonResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django_tasks import task_backends
from django_tasks.base import TaskResultStatus
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult, get_date_max

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"


@functools.cache
def code_migrations() -> frozenset[tuple[str, str]]:
    """The migrations of this server's code: the nodes of the migration graph, squashed
    migrations in place of what they replace (read without a database)."""
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def _database() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        return cursor.fetchone() == (1,)


def _migrations() -> bool:
    applied = set(MigrationRecorder(connection).migration_qs.values_list("app", "name"))
    return code_migrations() <= applied


def _mail_queue_is_db() -> bool:
    return isinstance(task_backends["default"], DatabaseBackend)


def mail_queue_wait(now=None) -> timedelta | None:
    """How long the oldest e-mail due has been waiting to be sent (None: nothing waits).

    Due means queued to run now (`run_after` unset) or a retry whose time has come; a retry
    still waiting for its time is not late."""
    now = now or timezone.now()
    never = get_date_max()
    due = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    oldest = due.aggregate(
        queued=Min("enqueued_at", filter=Q(run_after=never)),
        retry=Min("run_after", filter=Q(run_after__lte=now) & ~Q(run_after=never)),
    )
    since = [moment for moment in oldest.values() if moment is not None]
    return now - min(since) if since else None


def _mail_queue() -> bool:
    if not _mail_queue_is_db():
        return True  # e-mails are not queued (sent at once): nothing can pile up
    wait = mail_queue_wait()
    return wait is None or wait.total_seconds() < settings.HEALTH_MAIL_MAX_AGE


CHECKS = {"database": _database, "migrations": _migrations, "mail_queue": _mail_queue}


def health_response():
    results = {}
    for name, check in CHECKS.items():
        try:
            results[name] = "ok" if check() else "failing"
        except DatabaseError:
            logger.exception("Health check %s: database error", name)
            results[name] = "failing"
        if results[name] != "ok":
            break  # the next checks need what this one found missing
    healthy = all(value == "ok" for value in results.values())
    response = JsonResponse(
        {"status": "ok" if healthy else "failing", "checks": results},
        status=200 if healthy else 503,
    )
    add_never_cache_headers(response)
    return response


class HealthCheckMiddleware:
    """Answers GET/HEAD /healthz before the host check, the HTTPS redirect and the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH and request.method in ("GET", "HEAD"):
            return health_response()
        return self.get_response(request)
