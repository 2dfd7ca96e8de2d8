"""Log-in, staff only, Japanese by default, and each page/action allowed by group."""

from __future__ import annotations

import pytest
from django.test import Client

from staff import permissions
from tests.staff.conftest import PASSWORD
from tests.staff.submit import submit


@pytest.mark.django_db
def test_anonymous_is_sent_to_the_login_page():
    response = Client().get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/?next=/staff/")


@pytest.mark.django_db
def test_staff_user_logs_in_and_lands_on_the_dashboard(make_staff):
    make_staff(permissions.SUPPORT, "sato")
    client = Client()
    response = client.post("/staff/login/", {"username": "sato", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    page = client.get("/staff/")
    assert page.status_code == 200
    assert "いま対応が必要なもの" in page.content.decode()


@pytest.mark.django_db
def test_a_customer_account_without_staff_flag_cannot_log_in(make_staff):
    make_staff(None, "shopper", is_staff=False)
    response = Client().post("/staff/login/", {"username": "shopper", "password": PASSWORD})
    assert response.status_code == 200
    assert "スタッフ用のアカウントでログインしてください。" in response.content.decode()


@pytest.mark.django_db
def test_login_form_refuses_a_post_without_csrf_token(make_staff):
    make_staff(permissions.SUPPORT, "sato")
    client = Client(enforce_csrf_checks=True)
    response = client.post("/staff/login/", {"username": "sato", "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.django_db
def test_pages_are_japanese_even_when_the_browser_asks_for_english(agent):
    response = agent.get("/staff/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "ダッシュボード" in response.content.decode()


@pytest.mark.django_db
def test_the_language_switch_shows_the_console_in_english(agent):
    agent.post("/i18n/setlang/", {"language": "en", "next": "/staff/"})
    body = agent.get("/staff/").content.decode()
    assert "Dashboard" in body
    assert "What needs a person now" in body


@pytest.mark.django_db
def test_only_finance_may_open_the_bank_transfer_batches(make_staff):
    allowed = {group: permissions.can_view(make_staff(group), "transfer_batches")
               for group in (permissions.SUPPORT, permissions.FRAUD, permissions.FINANCE)}
    assert allowed == {permissions.SUPPORT: False, permissions.FRAUD: False, permissions.FINANCE: True}


@pytest.mark.django_db
def test_finance_cannot_open_the_callback_queue(finance):
    response = finance.get("/staff/callbacks/")
    assert response.status_code == 403
    assert "権限がありません" in response.content.decode()


@pytest.mark.django_db
def test_finance_sees_the_order_page_but_not_the_cancel_button(finance, card_order):
    response = finance.get(f"/staff/orders/{card_order.number}/")
    assert response.status_code == 200
    assert 'data-action="cancel"' not in response.content.decode()


@pytest.mark.django_db
def test_finance_is_refused_the_cancel_action_even_by_a_crafted_post(finance, card_order):
    response = submit(finance, f"/staff/orders/{card_order.number}/actions/cancel/", {"note": ""})
    assert response.status_code == 403
    card_order.refresh_from_db()
    assert card_order.status == "processing"


@pytest.mark.django_db
def test_an_action_not_on_the_allow_list_is_not_found(agent, card_order):
    response = submit(agent, f"/staff/orders/{card_order.number}/actions/delete/")
    assert response.status_code == 404


@pytest.mark.django_db
def test_superuser_may_open_every_page(make_staff):
    user = make_staff(None, "root")
    user.is_superuser = True
    user.save()
    assert all(permissions.can_view(user, page) for page in permissions.PAGES)
