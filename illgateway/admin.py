"""The admin site's own parts that belong to no one app: the audit log's list, and the robust
change list for the lists of the packages we use (Django's users, allauth's, django-tasks').

django-auditlog registers an admin of its own; it is replaced here by one that shares the
gateway's admin behaviour (a change list that never answers 500 to a filter value, see
core.adminbase) and speaks the staff member's language. Entries are read only, for everyone:
auditlog's admin already refuses adding, changing and deleting, and so does this one.
"""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.adminbase import GatewayAdminMixin, RobustChangeList, recent_date_filter
from requests_app.dashboard import dashboard


class TrackedModelFilter(admin.SimpleListFilter):
    """Which kind of object: the tracked models by name, any other value ignored."""

    title = _("Resource Type")
    parameter_name = "resource_type"

    def lookups(self, request, model_admin):
        types = ContentType.objects.get_for_models(*auditlog.get_models())
        return sorted(
            ((str(ct.pk), capfirst(model._meta.verbose_name)) for model, ct in types.items()),
            key=lambda choice: str(choice[1]),
        )

    def queryset(self, request, queryset):
        known = {value for value, _label in self.lookup_choices}
        if self.value() in known:
            return queryset.filter(content_type_id=int(self.value()))
        return queryset


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class GatewayLogEntryAdmin(GatewayAdminMixin, LogEntryAdmin):
    list_display = ["created", "resource_url", "action", "msg_short", "user_url"]
    # Newest first on the timestamp's index; a period filter instead of auditlog's
    # date_hierarchy, which lists the dates present over every entry.
    date_hierarchy = None
    list_filter = ["action", TrackedModelFilter, recent_date_filter("timestamp", _("time"))]
    # Searching the JSON of every change or the time as text would scan the whole table.
    search_fields = ["object_repr", "actor__username"]
    fieldsets = [
        (None, {"fields": ["created", "user_url", "resource_url", "remote_addr"]}),
        (_("Changes"), {"fields": ["action", "msg"]}),
    ]
    readonly_fields = [*LogEntryAdmin.readonly_fields, "remote_addr"]

    @admin.display(description=_("User"))
    def user_url(self, obj):
        if obj.actor:
            return obj.actor.get_username()
        return gettext("the system or the reader")

    @admin.display(description=_("Changes"))
    def msg_short(self, obj):
        # The changed fields' names only: `changes_display_dict` would also load every related
        # object the values name, queries per row of the list.
        if obj.action in (LogEntry.Action.DELETE, LogEntry.Action.ACCESS):
            return ""
        model = obj.content_type.model_class()
        names = []
        for name in obj.changes_dict:
            try:
                names.append(str(model._meta.get_field(name).verbose_name))
            except (FieldDoesNotExist, AttributeError):
                names.append(name)
        return format_html("{}", ", ".join(names)[:150])


# --- The dashboard: the admin's index page --------------------------------------------------

_stock_index = admin.site.index


def dashboard_index(request, extra_context=None):
    """Django's index (the apps and models the user may open) with the office's queues on top."""
    return _stock_index(request, {"dashboard": dashboard(request.user), **(extra_context or {})})


admin.site.index = dashboard_index
admin.site.index_template = "admin/dashboard_index.html"


def _robust_change_list(request, **kwargs):
    return RobustChangeList


# The packages' own admins (superusers only: the ILL office has no permission on them) answer a
# filter value no date can have (`?last_login__year=99999`) with the "?e=1" notice as the
# gateway's do, not with a 500. This app is the last in INSTALLED_APPS: every admin is
# registered by now.
for _model_admin in admin.site._registry.values():
    if not isinstance(_model_admin, GatewayAdminMixin):
        _model_admin.get_changelist = _robust_change_list
