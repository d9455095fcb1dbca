"""Messages of the packages we use whose Chinese translation they lack or have outdated.

Django 5.2 changed the msgid of the minimum-length password message; its zh_Hans catalog still
has the old one. Naming the msgids here lets makemessages put them in our catalog, which takes
precedence over the packages' own.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

PACKAGE_MESSAGES = [
    # django-tasks' database backend: its model's names, shown on the admin index.
    gettext_noop("Task Result"),
    gettext_noop("Task Results"),
    # Django admin's app list: column headings read out by screen readers on every admin page.
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
]
