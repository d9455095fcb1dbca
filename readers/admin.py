from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Notice, Page, Reader


@admin.register(Reader)
class ReaderAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "reader_type", "status", "institution", "created_at"]
    list_filter = ["status", "reader_type"]
    search_fields = ["name", "email", "user__username", "id_number", "campus_id", "phone"]
    list_select_related = ["user"]
    raw_id_fields = ["user", "decided_by"]
    readonly_fields = ["created_at", "decided_at", "decided_by"]


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "publish_at", "end_at", "pinned", "personal_to", "read_at"]
    list_filter = ["pinned", ("reader", admin.EmptyFieldListFilter)]
    search_fields = ["title_zh", "title_en", "body_zh", "body_en", "reader__name"]
    date_hierarchy = "publish_at"
    raw_id_fields = ["reader"]
    readonly_fields = ["read_at"]
    list_select_related = ["reader"]
    fieldsets = [
        (_("Chinese"), {"fields": ["title_zh", "body_zh"]}),
        (_("English"), {"fields": ["title_en", "body_en"]}),
        (None, {"fields": ["publish_at", "end_at", "pinned", "reader", "read_at"]}),
    ]

    @admin.display(description=_("personal to"), ordering="reader__name")
    def personal_to(self, obj):
        return obj.reader or "—"


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "title_zh", "title_en", "updated_at"]
    fieldsets = [
        (None, {"fields": ["slug"]}),
        (_("Chinese"), {"fields": ["title_zh", "body_zh"]}),
        (_("English"), {"fields": ["title_en", "body_en"]}),
    ]
