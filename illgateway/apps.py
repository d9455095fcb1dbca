"""The project's own app configuration, and those of packages we use where theirs needs a change."""

from django.apps import AppConfig
from django.core.cache import InvalidCacheBackendError, caches
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _

# The module, not the class: an AppConfig class imported into this module's namespace would be
# a candidate for the "illgateway" app's own configuration.
from django_tasks_db import apps as tasks_db_apps

# Registers the deployment checks (`manage.py check --deploy`).
from illgateway import checks  # noqa: F401


class IllgatewayConfig(AppConfig):
    name = "illgateway"
    verbose_name = "ILL Reader Gateway"

    def ready(self):
        setting_changed.connect(forget_layout_fragments)


def forget_layout_fragments(**kwargs):
    """The layout's kept fragments (templates/base.html, the "template_fragments" cache) were
    rendered under the settings of the time: the static files' storage, LIBRARY_NAME, the URLs.
    A setting that changes while the process runs (only tests change them) drops them."""
    try:
        fragments = caches["template_fragments"]
    except InvalidCacheBackendError:
        return
    fragments.clear()


class TasksDatabaseConfig(tasks_db_apps.TasksAppConfig):
    """django-tasks' database backend (the e-mail queue), with a name staff can read.

    Its own verbose name, "Tasks Database Backend", is not translatable; the admin index
    showed it in English on the Chinese back office.
    """

    default = False
    verbose_name = _("Background tasks (e-mail queue)")
