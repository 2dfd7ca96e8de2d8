"""Finance's reconciliation page (issue 14): per chain and day 速報 against 確報, open cases with
one resolve action (confirm page, one-time token), the CSV upload through the API's importer,
the CSV export; the unsettled-preliminaries job."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from backoffice.timeutil import local
from payments.konbini import cases, confirmations
from payments.konbini.business_days import add_business_days, latest_overdue_day
from payments.konbini.models import SettlementCase, SettlementReport
from payments.models import Payment
from shop.models import OrderEvent
from tests.payments.konbini_support import PLACED, issue, konbini_order, register_store
from tests.staff.submit import submit

pytestmark = pytest.mark.django_db
URL = "/staff/settlement/"
UPLOAD = "/staff/settlement/actions/upload/"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(PLACED, tick=False) as traveller:  # 2026-11-23 10:00 JST
        yield traveller


def _paid(receipt: str, price: int = 2980, external_id: str = "c-1"):
    order = konbini_order(price=price, external_id=external_id)
    code = issue(order, "lawson")
    confirmations.confirm(chain_code="lawson", payment_number=code.number, check_code_value="8888", actor="test",
                          cash=confirmations.CashPayment(amount=price, store_code=register_store("lawson"),
                                                         paid_at=PLACED, receipt_number=receipt))
    return order, code


def _csv(*rows) -> SimpleUploadedFile:
    text = "お支払い番号,レシート番号,金額,支払日時\n" + "".join(
        f"{code.number},{receipt},{amount},{local(PLACED).isoformat()}\n" for code, receipt, amount in rows)
    return SimpleUploadedFile("lawson_20261123.csv", text.encode("cp932"), content_type="text/csv")


def test_the_page_is_finance_only(agent, finance):
    assert agent.get(URL).status_code == 403
    assert finance.get(URL).status_code == 200


def test_csv_upload_reconciles_through_the_importer_and_the_page_shows_the_day(finance):
    a, code_a = _paid("R-A", external_id="c-a")
    b, code_b = _paid("R-B", external_id="c-b")
    r = submit(finance, UPLOAD, {"chain": "lawson", "settlement_date": "2026-11-23",
                                 "file": _csv((code_a, "R-A", 2980), (code_b, "R-B", 2900))})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert SettlementReport.objects.get().source == "csv"
    assert Payment.objects.get(order=a).status == "settled" and Payment.objects.get(order=b).status == "paid"
    page = finance.get(URL).content.decode()
    row = page[page.index('data-chain="lawson" data-day="2026-11-23"'):]
    row = row[:row.index("</tr>")]
    # 速報 2 / 5,960円, 確報 2 / 5,880円, difference −80円, one open case
    assert ">2<" in row and "5,960円" in row and "5,880円" in row and "-80円" in row
    case = SettlementCase.objects.get()
    assert case.kind == "amount_differs" and f'data-case="{case.pk}"' in page


def test_the_same_file_uploaded_twice_changes_nothing(finance):
    a, code_a = _paid("R-A")
    submit(finance, UPLOAD, {"chain": "lawson", "settlement_date": "2026-11-23", "file": _csv((code_a, "R-A", 2980))})
    events = OrderEvent.objects.count()
    r = submit(finance, UPLOAD, {"chain": "lawson", "settlement_date": "2026-11-23",
                                 "file": _csv((code_a, "R-A", 2980))})
    assert r.status_code == 302
    assert SettlementReport.objects.count() == 1 and OrderEvent.objects.count() == events


def test_a_bad_file_is_shown_on_the_confirm_page_and_writes_nothing(finance):
    bad = SimpleUploadedFile("x.csv", b"a,b\n1,2\n", content_type="text/csv")
    r = submit(finance, UPLOAD, {"chain": "lawson", "settlement_date": "2026-11-23", "file": bad})
    assert r.status_code == 400 and 'data-code="invalid_csv"' in r.content.decode()
    assert not SettlementReport.objects.exists()


def test_resolving_a_case_runs_once(finance):
    order, code = _paid("R-A")
    submit(finance, UPLOAD, {"chain": "lawson", "settlement_date": "2026-11-23", "file": _csv((code, "R-A", 1))})
    case = SettlementCase.objects.get()
    url = f"/staff/settlement/cases/{case.pk}/actions/resolve/"
    page = finance.get(url).content.decode()
    assert "金額相違" in page and "差額 -2,979円" in page
    token = page.split('name="form_token" value="')[1].split('"')[0]
    first = finance.post(url, {"form_token": token, "note": "ローソンに確認、レジの入力誤り"})
    assert first.status_code == 302
    again = finance.post(url, {"form_token": token, "note": "ローソンに確認、レジの入力誤り"})
    assert again.status_code == 409
    case.refresh_from_db()
    assert case.status == "resolved" and case.resolution == "ローソンに確認、レジの入力誤り"
    assert OrderEvent.objects.filter(order=order, kind="settlement_case_resolved").count() == 1


def test_the_export_is_the_table_as_csv(finance):
    _paid("R-A")
    r = finance.get("/staff/settlement/export.csv?chain=lawson")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig").splitlines()
    assert text[0].startswith("チェーン,対象日,速報件数") and text[1] == "ローソン,2026-11-23,1,2980,0,0,-2980,0"


# --- the daily job -------------------------------------------------------------------------------------

def test_business_days_skip_weekends_and_japanese_holidays():
    from datetime import date

    assert add_business_days(date(2026, 11, 20), 3) == date(2026, 11, 26)  # Sat, Sun, 勤労感謝の日 (Mon 11-23)
    assert latest_overdue_day(date(2026, 11, 27), 3) == date(2026, 11, 23)


def test_the_job_lists_preliminaries_unsettled_after_three_business_days_once(_clock, settings):
    assert settings.KONBINI_SETTLEMENT_DAYS == 3
    order, code = _paid("R-A")  # paid Monday 2026-11-23 (a holiday)
    _clock.move_to(PLACED + timedelta(days=3))  # Thu 11-26: 24, 25, 26 not all passed
    assert cases.list_unsettled()["opened"] == 0
    _clock.move_to(PLACED + timedelta(days=4))  # Fri 11-27
    assert cases.list_unsettled()["opened"] == 1
    assert cases.list_unsettled()["opened"] == 0  # run twice: one case
    case = SettlementCase.objects.get()
    assert (case.kind, case.order_id, case.day.isoformat()) == ("unsettled", order.pk, "2026-11-23")


def test_the_job_is_registered():
    from backoffice import jobs

    assert "konbini_unsettled_preliminaries" in jobs.load_all()
