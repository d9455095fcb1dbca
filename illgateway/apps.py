"""App configurations of packages we use, where theirs needs a change."""

from django.utils.translation import gettext_lazy as _

# The module, not the class: an AppConfig class in this module's namespace would be taken as
# the "illgateway" app's own configuration.
from django_tasks_db import apps as tasks_db_apps


class TasksDatabaseConfig(tasks_db_apps.TasksAppConfig):
    """django-tasks' database backend (the e-mail queue), with a name staff can read.

    Its own verbose name, "Tasks Database Backend", is not translatable; the admin index
    showed it in English on the Chinese back office.
    """

    default = False
    verbose_name = _("Background tasks (e-mail queue)")
