"""Messages of the packages we use whose Chinese translation they lack or have outdated.

Django 5.2 changed the msgid of the minimum-length password message; its zh_Hans catalog still
has the old one. Naming the msgids here lets makemessages put them in our catalog, which takes
precedence over the packages' own.
"""

from django.utils.translation import ngettext_lazy

PACKAGE_MESSAGES = [
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
]
