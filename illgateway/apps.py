"""The project's own app configuration, and those of packages we use where theirs needs a change."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The module, not the class: an AppConfig class imported into this module's namespace would be
# a candidate for the "illgateway" app's own configuration.
from django_tasks_db import apps as tasks_db_apps

# Registers the deployment checks (`manage.py check --deploy`).
from illgateway import checks  # noqa: F401


class IllgatewayConfig(AppConfig):
    name = "illgateway"
    verbose_name = "ILL Reader Gateway"


class TasksDatabaseConfig(tasks_db_apps.TasksAppConfig):
    """django-tasks' database backend (the e-mail queue), with a name staff can read.

    Its own verbose name, "Tasks Database Backend", is not translatable; the admin index
    showed it in English on the Chinese back office.
    """

    default = False
    verbose_name = _("Background tasks (e-mail queue)")
