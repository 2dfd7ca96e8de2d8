"""Every record has a name (issue 17: admin inlines said 「OrderEvent object (55)」): each model of
our apps defines ``__str__``, and every registered admin model's change list and the change page
of one of its records render with no "object (" anywhere."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import models
from django.test import RequestFactory
from django.urls import reverse

from fraud.models import Report
from fraud.services import accounts, playbook
from pickup.models import PickupAttempt
from receipts import services as receipts
from shop.models import CancellationReason, Order, OrderEvent
from shop.services import orders
from tests import factories
from tests.staff import scenario

OUR_APPS = {"backoffice", "shop", "payments", "konbini", "pickup", "fraud", "receipts", "webhooks", "staff"}

# Records a fresh demo plus the scenarios below must give the admin (the pages this test opens).
MUST_HAVE_A_RECORD = {"shop.Order", "shop.Customer", "fraud.Report", "payments.Refund", "payments.Payment",
                      "pickup.Pickup", "pickup.PickupAttempt", "receipts.Receipt", "fraud.AccountAction",
                      "payments.GiftCardAccount", "shop.Message", "shop.CallbackRequest"}


def test_every_model_of_our_apps_has_its_own_name():
    nameless = [m._meta.label for m in apps.get_models() if m._meta.app_label in OUR_APPS
                and m.__str__ is models.Model.__str__]
    assert not nameless, nameless


def _records(django_capture_on_commit_callbacks):
    """The demo (every queue filled) and a few more records of the kinds it leaves out."""
    call_command("seed_demo", verbosity=0)
    order = factories.place(factories.ListingFactory(price=3_300), external_id="admin-names")
    scenario.seed_003_tracking(order)
    receipts.issue(order=order, channel="staff", actor="staff:test")
    scenario.pickup_order(external_id="admin-pickup", failed_attempts=2)
    scenario.failed_card_refund(django_capture_on_commit_callbacks, external_id="admin-refund")
    customer = factories.place(factories.ListingFactory(), external_id="admin-suspended").customer
    accounts.suspend(customer, reason="調査中", actor="staff:test")
    victim = factories.place(factories.ListingFactory(price=4_000), external_id="admin-playbook")
    scenario.logins_for(victim.customer)
    playbook.report_unauthorized_order(customer=victim.customer, orders=[victim], secure_account=True,
                                       description="身に覚えがない", actor="storefront:test")
    with django_capture_on_commit_callbacks(execute=True):
        orders.cancel(factories.place(factories.ListingFactory(), external_id="admin-cancel"),
                      reason=CancellationReason.CUSTOMER_REQUEST, actor="storefront")


@pytest.mark.django_db
def test_every_admin_change_list_and_change_page_names_its_records(client, django_capture_on_commit_callbacks):
    _records(django_capture_on_commit_callbacks)
    root = User.objects.create_superuser("root", "root@example.jp", "x-correct-horse")
    client.force_login(root)
    request = RequestFactory().get("/admin/")
    request.user = root
    missing, offenders = [], {}
    for model, model_admin in admin.site._registry.items():
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages = [reverse(f"{name}_changelist")]
        record = model_admin.get_queryset(request).order_by("-pk").first()  # a proxy's own rows (failed refunds)
        if record is not None:
            pages.append(reverse(f"{name}_change", args=[record.pk]))
        elif model._meta.label in MUST_HAVE_A_RECORD:
            missing.append(model._meta.label)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            if "object (" in response.content.decode():
                offenders[url] = [line.strip() for line in response.content.decode().splitlines()
                                  if "object (" in line][:3]
    assert not missing, missing
    assert not offenders, offenders


@pytest.mark.django_db
def test_an_order_event_is_named_by_its_order_kind_and_time_in_jst():
    order = factories.place(factories.ListingFactory())
    event = OrderEvent.objects.filter(order=order).order_by("pk").first()
    assert str(event).startswith(f"{order.number} 注文受付 ")
    assert str(Order.objects.get(pk=order.pk)) == order.number
    assert str(Report(pk=7, type="unauthorized_order")) == "#7 身に覚えのない注文"
    assert PickupAttempt.__str__ is not models.Model.__str__
