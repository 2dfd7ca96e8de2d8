"""Reads of receipts for the staff console."""

from __future__ import annotations

from django.db.models import QuerySet

from receipts.models import ReceiptIssue
from shop.models import Customer, Order


def issues_of_order(order: Order) -> list[ReceiptIssue]:
    """Every issue of the order's receipt, newest first (one query)."""
    return list(ReceiptIssue.objects.filter(receipt__order=order).select_related("receipt").order_by("-sequence"))


def issues_of_customer(customer: Customer) -> QuerySet[ReceiptIssue]:
    """Every receipt issued for the customer's orders, newest first (paginate it)."""
    return (ReceiptIssue.objects.filter(receipt__order__customer=customer).select_related("receipt__order")
            .order_by("-issued_at", "-id"))


def issue_of_order(order: Order, issue_id: int) -> ReceiptIssue | None:
    return ReceiptIssue.objects.filter(pk=issue_id, receipt__order=order).select_related("receipt").first()
