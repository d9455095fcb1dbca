"""`manage.py check --deploy`: what would break with several application servers (issue 15.3).

Nothing another server needs may live in one process's memory or on one machine's disk: the
cache holds the login throttle's counts and the federation sync's lock, so it must be shared.
Sessions are in the database (Django's default) and e-mails wait in the database queue.
"""

from django.conf import settings
from django.core.checks import Tags, Warning, register

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
}
PER_PROCESS_SESSIONS = {"django.contrib.sessions.backends.file"}


@register(Tags.caches, Tags.security, deploy=True)
def shared_state(app_configs, **kwargs):
    problems = []
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in PER_PROCESS_CACHES:
        problems.append(
            Warning(
                f"CACHE_URL gives {backend.rsplit('.', 1)[-1]}, which every process keeps "
                "for itself: the login throttle would count per process, multiplying the "
                "allowed wrong passwords by the number of workers and servers.",
                hint="Use the database cache (dbcache://django_cache, the default) or redis://.",
                id="illgateway.W001",
            )
        )
    if settings.SESSION_ENGINE in PER_PROCESS_SESSIONS or (
        settings.SESSION_ENGINE == "django.contrib.sessions.backends.cache"
        and backend in PER_PROCESS_CACHES
    ):
        problems.append(
            Warning(
                "Sessions are kept on one machine: a reader would be logged out whenever the "
                "load balancer sends them to another server.",
                hint="Keep Django's default database sessions.",
                id="illgateway.W002",
            )
        )
    if "immediate" in settings.TASKS["default"]["BACKEND"].lower():
        problems.append(
            Warning(
                "E-mails are sent while the page waits (TASKS_BACKEND is the immediate "
                "backend): a slow mail server slows pages, and a failed e-mail is not retried.",
                hint="Leave TASKS_BACKEND unset (the database queue) and run db_worker.",
                id="illgateway.W003",
            )
        )
    return problems
