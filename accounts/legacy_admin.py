"""The old system's accounts in the admin: staff see and search them; nobody edits or deletes them.

Linking an old account to a gateway reader is the linking wizard's (and later staff's) service,
not a form field here.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.adminbase import GatewayAdminMixin

from .legacy import LegacyAccount


@admin.register(LegacyAccount)
class LegacyAccountAdmin(GatewayAdminMixin, admin.ModelAdmin):
    list_display = [
        "user_id",
        "username",
        "name",
        "id_type",
        "id_number",
        "reader_type",
        "balance",
        "status",
        "reader",
        "linked_at",
    ]
    list_filter = ["status", "reader_type", "id_type", ("reader", admin.EmptyFieldListFilter)]
    search_fields = ["username", "name", "id_number"]
    list_select_related = ["reader"]
    show_full_result_count = False
    fields = [
        "user_id",
        "username",
        "usable_password",
        "name",
        "email",
        "id_type",
        "id_number",
        "reader_type",
        "institution",
        "phone",
        "address",
        "postal_code",
        "balance",
        "status",
        "created_at",
        "last_login",
        "reader",
        "linked_at",
        "imported_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("usable password"), boolean=True)
    def usable_password(self, obj):
        return obj.has_usable_password

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
