"""The "ILL office" group: what staff of the office may do in the back office.

Kept in step after every migrate, so that a new model's permissions reach the office without a
manual step; an operator only adds people to the group (or makes them superusers).
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

STAFF_GROUP = "ILL office"

# app label → model → actions
PERMISSIONS = {
    "readers": {
        "reader": ["view", "change"],
        "registrationtoconfirm": ["view", "change"],
        "notice": ["view", "add", "change", "delete"],
        "page": ["view", "add", "change"],
        "loginemailchange": ["view"],
    },
    "requests_app": {
        "illrequest": ["view", "change"],
        "feeline": ["view", "add", "change", "delete"],
        "statuschange": ["view"],
    },
    "accounts": {
        # The ledger is only ever added to: no change or delete, for anyone.
        "ledgerentry": ["view", "add"],
        "account": ["view"],
        # The old system's accounts, read only.
        "legacyaccount": ["view"],
    },
    # The audit trail (django-auditlog) is read, never written or removed, by anyone.
    "auditlog": {
        "logentry": ["view"],
    },
}


def ensure_staff_group(**kwargs) -> Group:
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    wanted = Q(pk__in=[])
    for app_label, models in PERMISSIONS.items():
        for model, actions in models.items():
            wanted |= Q(
                content_type__app_label=app_label,
                content_type__model=model,
                codename__in=[f"{action}_{model}" for action in actions],
            )
    group.permissions.add(*Permission.objects.filter(wanted))
    return group
