"""Receipts in the staff console: the order page shows every issue and issues or re-issues one
(the addressee asked on the confirm page), the customer page lists them, groups are checked."""

from __future__ import annotations

import pytest

from receipts.models import ReceiptIssue
from tests import factories
from tests.receipts.helpers import pdftotext
from tests.staff.submit import submit

pytestmark = pytest.mark.django_db


def _action(order) -> str:
    return f"/staff/orders/{order.number}/actions/issue-receipt/"


def test_the_confirm_page_says_original_then_reissue_and_asks_the_addressee(agent, card_order):
    confirm = agent.get(_action(card_order)).content.decode()
    assert "原本として初めて発行" in confirm
    assert 'name="addressee"' in confirm and 'maxlength="40"' in confirm
    assert f"{card_order.customer.name} 様" in confirm  # the default, said before confirming

    response = submit(agent, _action(card_order), {"addressee": "株式会社サンプル 御中", "purpose": ""})
    assert response.status_code == 302
    issued = ReceiptIssue.objects.get(receipt__order=card_order)
    assert (issued.sequence, issued.addressee, issued.purpose, issued.channel, issued.actor) == (
        1, "株式会社サンプル 御中", "お品代として", "staff", "staff:support_agent-user")
    page = agent.get(response["Location"]).content.decode()
    assert f"領収書 {issued.receipt.number} を発行しました（原本）。" in page

    again = agent.get(_action(card_order)).content.decode()
    assert f"領収書 {issued.receipt.number} を「再発行」と明記して発行します（2回目の発行）。" in again
    submit(agent, _action(card_order), {"addressee": ""})
    assert list(ReceiptIssue.objects.filter(receipt__order=card_order).order_by("sequence")
                .values_list("sequence", "addressee")) == [(1, "株式会社サンプル 御中"), (2, "山田太郎 様")]


def test_the_order_page_lists_the_issues_and_opens_the_pdf_as_issued(agent, card_order, tmp_path):
    submit(agent, _action(card_order), {"addressee": "経理部 御中"})
    submit(agent, _action(card_order), {"addressee": ""})
    page = agent.get(f"/staff/orders/{card_order.number}/").content.decode()
    assert 'data-testid="receipts"' in page
    assert "経理部 御中" in page and "再発行" in page and "原本" in page

    first = ReceiptIssue.objects.get(receipt__order=card_order, sequence=1)
    pdf = agent.get(f"/staff/orders/{card_order.number}/receipts/{first.pk}.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = pdftotext(pdf.content, tmp_path)
    assert "経理部 御中" in text and "再発行" not in text
    assert ReceiptIssue.objects.filter(receipt__order=card_order).count() == 2  # viewing issues nothing


def test_a_pdf_of_another_orders_issue_is_404(agent, card_order, listing):
    other = factories.place(listing, external_id="other")
    submit(agent, _action(card_order))
    issued = ReceiptIssue.objects.get(receipt__order=card_order)
    assert agent.get(f"/staff/orders/{other.number}/receipts/{issued.pk}.pdf").status_code == 404


def test_an_unpaid_order_offers_no_receipt_and_a_forged_post_writes_nothing(agent, konbini_order):
    page = agent.get(f"/staff/orders/{konbini_order.number}/").content.decode()
    assert 'data-action="issue_receipt"' not in page
    assert "領収書はまだ発行されていません。" in page
    confirm = agent.get(_action(konbini_order)).content.decode()
    assert "お支払いの確認後に領収書を発行できます。" in confirm  # the refusal says why (issue 17)
    response = submit(agent, _action(konbini_order), {"addressee": ""})  # no form was shown: no token
    assert response.status_code == 400 and 'data-code="form_token_invalid"' in response.content.decode()
    assert not ReceiptIssue.objects.exists()


def test_an_addressee_over_40_characters_is_refused_on_the_confirm_page(agent, card_order):
    response = submit(agent, _action(card_order), {"addressee": "あ" * 41})
    assert response.status_code == 400
    assert not ReceiptIssue.objects.exists()


def test_finance_may_issue_but_a_fraud_analyst_may_not(finance, analyst, card_order):
    assert 'data-action="issue_receipt"' in finance.get(f"/staff/orders/{card_order.number}/").content.decode()
    assert 'data-action="issue_receipt"' not in analyst.get(f"/staff/orders/{card_order.number}/").content.decode()
    assert analyst.post(_action(card_order)).status_code == 403
    assert not ReceiptIssue.objects.exists()


def test_the_customer_page_lists_the_receipts_issued(agent, card_order, listing):
    second = factories.place(listing)  # the same customer (cust-1)
    submit(agent, _action(card_order), {"addressee": "経理部 御中"})
    submit(agent, _action(second))
    page = agent.get(f"/staff/customers/{card_order.customer_id}/").content.decode()
    assert 'data-testid="customer-receipts"' in page
    assert card_order.number in page and second.number in page and "経理部 御中" in page


def test_the_receipt_panel_and_confirm_page_speak_english_after_the_switch(agent, card_order):
    agent.post("/i18n/setlang/", {"language": "en", "next": "/staff/"})
    submit(agent, _action(card_order), {"addressee": ""})
    page = agent.get(f"/staff/orders/{card_order.number}/").content.decode()
    assert "Receipts issued" not in page and "No receipt has been issued yet." not in page
    assert "Issue / reissue receipt" in page and "Original" in page
    confirm = agent.get(_action(card_order)).content.decode()
    assert "marked 「再発行」 (reissue; issue number 2)" in confirm
