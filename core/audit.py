"""The audit trail (django-auditlog) as staff read it: the "History" page of each admin object.

Which models are tracked is set in the settings (`AUDITLOG_INCLUDE_TRACKING_MODELS`); the actor
and the client's address come from `illgateway.middleware.AuditActorMiddleware`. Django's own
"History" link of every change page opens `audit_history_view`: who changed what and when, each
field from what to what, newest first, in the staff member's language.
"""

from urllib.parse import unquote

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_noop

HISTORY_PER_PAGE = 50

# django-auditlog ships no Chinese. Its own admin (the list of every log entry) shows these of
# its strings: marked here so that our catalogue carries their Chinese.
AUDITLOG_STRINGS = [
    gettext_noop("Audit log"),
    gettext_noop("log entry"),
    gettext_noop("log entries"),
    gettext_noop("create"),
    gettext_noop("update"),
    gettext_noop("delete"),
    gettext_noop("access"),
    gettext_noop("Created"),
    gettext_noop("User"),
    gettext_noop("Resource"),
    gettext_noop("Resource Type"),
    gettext_noop("Changes"),
    gettext_noop("action"),
    gettext_noop("actor"),
    gettext_noop("timestamp"),
    gettext_noop("content type"),
    gettext_noop("remote address"),
    gettext_noop("Field"),
    gettext_noop("From"),
    gettext_noop("To"),
]


def audit_rows(entries):
    """What the history page shows of each entry: the field changes with readable names."""
    rows = []
    for entry in entries:
        changes = [
            (capfirst(field), old, new) for field, (old, new) in entry.changes_display_dict.items()
        ]
        model = entry.content_type.model_class()
        kind = model._meta.verbose_name if model is not None else entry.content_type.model
        rows.append({"entry": entry, "kind": kind, "changes": changes})
    return rows


class AuditHistoryMixin:
    """The admin's "History" page shows the audit trail of the object (and `audit_related`)."""

    def audit_related(self, obj) -> Q:
        """Entries of other objects that belong on this object's page (its fee lines…)."""
        return Q(pk__in=[])

    def history_view(self, request, object_id, extra_context=None):
        if not auditlog.contains(self.model):
            return super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        own = Q(
            content_type=ContentType.objects.get_for_model(self.model, for_concrete_model=True),
            object_pk=str(obj.pk),
        )
        entries = (
            LogEntry.objects.filter(own | self.audit_related(obj))
            .select_related("actor", "content_type")
            .order_by("-timestamp", "-pk")
        )
        page = Paginator(entries, HISTORY_PER_PAGE).get_page(request.GET.get("p"))
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("Change history: %s") % obj,
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "page": page,
            "rows": audit_rows(page.object_list),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/audit_history.html", context)
