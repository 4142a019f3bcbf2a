from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from evidence.models import AuditChain, AuditEvent, Blob


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only services write: the admin shows them and changes nothing."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Blob)
class BlobAdmin(ReadOnlyAdmin):
    list_display = ["sha256", "mime_type", "size", "created_at"]
    search_fields = ["sha256"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "chain", "seq", "actor_name", "action", "subject_type", "subject_id", "ref"]
    list_filter = ["action", "actor_kind"]
    search_fields = ["ref", "subject_id", "actor_name", "hash"]


@admin.register(AuditChain)
class AuditChainAdmin(ReadOnlyAdmin):
    list_display = ["key", "seq", "head_hash"]
