"""Reports: filing, linking (the 3rd linked report raises priority), checklist, status machine."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from backoffice.errors import Conflict, InvalidInput
from fraud import rules
from fraud.models import ReportPriority, ReportStatus
from fraud.services import reports
from tests.factories import CustomerFactory, ListingFactory, SellerFactory, place

pytestmark = pytest.mark.django_db


def _events(report) -> list[str]:
    return list(report.events.values_list("kind", flat=True))


def test_open_report_records_filing_with_orders_on_the_timeline():
    order = place(ListingFactory())
    report = reports.open_report(type="repeated_pickup_cancellation", customer=order.customer, orders=[order],
                                 description="3回連続で未受取", actor="system")
    assert report.status == ReportStatus.OPEN and report.priority == ReportPriority.NORMAL
    assert list(report.orders.all()) == [order]
    assert report.address_key == order.address_key
    assert _events(report) == ["filed"]
    assert order.number in report.events.get().note


def test_the_customer_defaults_to_the_orders_customer():
    order = place(ListingFactory())
    report = reports.open_report(type="other", orders=[order])
    assert report.customer == order.customer


def test_unknown_type_is_refused():
    with pytest.raises(InvalidInput):
        reports.open_report(type="spam", customer=CustomerFactory())


def test_second_report_on_same_customer_links_but_keeps_normal_priority():
    customer = CustomerFactory()
    first = reports.open_report(type="other", customer=customer)
    second = reports.open_report(type="other", customer=customer)
    assert list(second.linked.all()) == [first]
    assert list(first.linked.all()) == [second]
    assert second.priority == ReportPriority.NORMAL


def test_third_linked_report_raises_priority_of_all_open_ones():
    customer = CustomerFactory()
    first = reports.open_report(type="other", customer=customer)
    second = reports.open_report(type="other", customer=customer)
    third = reports.open_report(type="other", customer=customer)
    assert rules.LINKED_REPORTS_FOR_HIGH_PRIORITY == 3
    for r in (first, second, third):
        r.refresh_from_db()
        assert r.priority == ReportPriority.HIGH
        assert "priority_raised" in _events(r)


def test_reports_link_by_seller_and_by_address_too():
    seller = SellerFactory()
    a = reports.open_report(type="cod_harassment", seller=seller)
    b = reports.open_report(type="cod_harassment", seller=seller, address_key="東京都千代田区千代田1-1")
    c = reports.open_report(type="cod_harassment", customer=CustomerFactory(), address_key="東京都千代田区千代田1-1")
    assert set(c.linked.all()) == {b}
    assert set(b.linked.all()) == {a, c}
    assert c.priority == ReportPriority.NORMAL  # c is linked to 1 report only


def test_unrelated_reports_do_not_link():
    reports.open_report(type="other", customer=CustomerFactory())
    other = reports.open_report(type="other", customer=CustomerFactory())
    assert other.linked.count() == 0


def test_resolve_needs_every_checklist_item_of_its_type():
    staff = User.objects.create(username="agent1", is_staff=True)
    report = reports.open_report(type="cod_harassment", customer=CustomerFactory())
    reports.start(report, actor=staff)
    report.refresh_from_db()
    assert report.status == ReportStatus.IN_PROGRESS and report.assignee == staff
    codes = [code for code, _ in rules.CHECKLISTS["cod_harassment"]]
    for code in codes[:-1]:
        reports.complete_check(report, code=code, actor=staff)
    with pytest.raises(Conflict) as exc:
        reports.resolve(report, actor=staff, note="対応済み")
    assert exc.value.code == "checklist_incomplete" and exc.value.reasons == [codes[-1]]
    reports.complete_check(report, code=codes[-1], actor=staff)
    reports.resolve(report, actor=staff, note="住所への代引きを停止")
    report.refresh_from_db()
    assert report.status == ReportStatus.RESOLVED and report.closed_at is not None
    assert _events(report).count("check_completed") == len(codes)


def test_ticking_an_item_twice_records_it_once():
    report = reports.open_report(type="other", customer=CustomerFactory())
    reports.complete_check(report, code="recorded_findings", actor="staff:a")
    reports.complete_check(report, code="recorded_findings", actor="staff:b")
    assert report.checks.get().done_by == "staff:a"
    assert _events(report).count("check_completed") == 1


def test_item_of_another_type_is_refused():
    report = reports.open_report(type="other", customer=CustomerFactory())
    with pytest.raises(InvalidInput) as exc:
        reports.complete_check(report, code="checked_address", actor="staff:a")
    assert exc.value.code == "unknown_check_item"


def test_report_cannot_be_resolved_before_work_starts():
    report = reports.open_report(type="other", customer=CustomerFactory())
    reports.complete_check(report, code="recorded_findings", actor="staff:a")
    with pytest.raises(Conflict) as exc:
        reports.resolve(report, actor="staff:a")
    assert exc.value.code == "invalid_transition"


def test_dismiss_needs_a_reason_but_no_checklist():
    report = reports.open_report(type="unauthorized_order", customer=CustomerFactory())
    reports.start(report, actor="staff:a")
    with pytest.raises(InvalidInput):
        reports.dismiss(report, actor="staff:a", note=" ")
    reports.dismiss(report, actor="staff:a", note="お客様のご家族による注文と判明")
    report.refresh_from_db()
    assert report.status == ReportStatus.DISMISSED and report.resolution == "お客様のご家族による注文と判明"
    with pytest.raises(Conflict):
        reports.complete_check(report, code="reviewed_logins", actor="staff:a")


def test_undoing_a_tick_shares_the_ticks_rules_and_the_report_cannot_be_resolved_without_it():
    staff = User.objects.create(username="agent2", is_staff=True)
    report = reports.open_report(type="other", customer=CustomerFactory())
    reports.start(report, actor=staff)
    with pytest.raises(InvalidInput) as exc:
        reports.undo_check(report, code="checked_address", actor=staff, reason="誤り")  # another type's item
    assert exc.value.code == "unknown_check_item"
    codes = [code for code, _ in rules.CHECKLISTS["other"]]
    for code in codes:
        reports.complete_check(report, code=code, actor=staff)
    reports.undo_check(report, code=codes[0], actor=staff, reason="確認先を誤った")
    with pytest.raises(Conflict) as exc:  # a second undo of the same tick (another tab, a stale page)
        reports.undo_check(report, code=codes[0], actor=staff, reason="確認先を誤った")
    assert exc.value.code == "check_not_done"
    with pytest.raises(Conflict) as exc:
        reports.resolve(report, actor=staff, note="対応済み")
    assert exc.value.code == "checklist_incomplete" and exc.value.reasons == [codes[0]]
    reports.complete_check(report, code=codes[0], actor=staff)
    reports.resolve(report, actor=staff, note="対応済み")
    with pytest.raises(Conflict) as exc:  # a closed report's checklist stays as it was closed
        reports.undo_check(report, code=codes[0], actor=staff, reason="後から")
    assert exc.value.code == "report_closed" and report.checks.count() == len(codes)
    assert _events(report).count("check_undone") == 1
