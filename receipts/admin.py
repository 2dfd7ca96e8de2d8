"""Receipts in the admin: records written only by ``receipts.services``; read-only here."""

from django.contrib import admin

from backoffice.admin_tools import ReadOnlyAdmin, ReadOnlyInline
from receipts.models import Receipt, ReceiptIssue


class ReceiptIssueInline(ReadOnlyInline):
    model = ReceiptIssue
    fields = ("sequence", "issued_at", "addressee", "purpose", "channel", "actor")
    readonly_fields = fields


@admin.register(Receipt)
class ReceiptAdmin(ReadOnlyAdmin):
    list_display = ("number", "order", "issue_count", "created_at")
    search_fields = ("number", "order__number")
    list_select_related = ("order",)
    inlines = [ReceiptIssueInline]
