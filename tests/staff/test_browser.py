"""The console in a real browser: Debian's chromium, headless, driven by Playwright.

Playwright's sync API runs an event loop in this thread while the browser is open, so the
Django ORM calls the tests make here need DJANGO_ALLOW_ASYNC_UNSAFE (set by the fixture).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from backoffice.timeutil import local
from fraud.services import screening
from payments.models import TransferBatch
from shop.models import OrderStatus
from staff.permissions import FINANCE, FRAUD, SUPPORT
from tests import factories
from tests.staff import scenario
from tests.staff.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make browser)"),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server):
    # An English browser: the console must still come up in Japanese (the default).
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base = live_server.url
    yield page
    context.close()


def log_in(page, username: str) -> None:
    page.goto(page.base + "/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("text=いま対応が必要なもの")


def _fullwidth(text: str) -> str:
    return text.translate(str.maketrans("0123456789-", "０１２３４５６７８９－"))


def test_agent_finds_an_order_by_full_width_number_cancels_it_and_sees_the_timeline(page, make_staff):
    make_staff(SUPPORT, "sato")
    order = factories.place(factories.ListingFactory(price=12_800))
    log_in(page, "sato")

    page.fill("input[name=q]", _fullwidth(order.number))
    page.press("input[name=q]", "Enter")
    page.wait_for_url(f"**/staff/orders/{order.number}/")
    assert page.inner_text("[data-testid=order-status]") == "発送準備中"
    assert "12,800円" in page.inner_text("[data-testid=order-total]")

    page.click("a[data-action=cancel]")
    page.wait_for_selector("text=実行すると次のことが行われます")
    assert "12,800円 をクレジットカードへ返金します" in page.inner_text("ul.consequences")
    page.fill("textarea[name=note]", "お客様から電話でキャンセル依頼")
    page.click("button[data-action=cancel]")

    page.wait_for_selector(f"text=注文 {order.number} をキャンセルしました。")
    assert page.inner_text("[data-testid=order-status]") == "キャンセル"
    timeline = page.inner_text("[data-testid=timeline]")
    assert "発送準備中 → キャンセル" in timeline
    assert "お客様から電話でキャンセル依頼" in timeline
    assert "staff:sato" in timeline
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELLED


def test_finance_downloads_the_zengin_file_and_marks_the_batch_transferred(page, make_staff):
    make_staff(FINANCE, "keiri")
    batch = scenario.transfer_batch(price=7_800)
    log_in(page, "keiri")

    page.click("nav.sections >> text=振込バッチ")
    page.wait_for_selector(f"tr[data-batch='{batch.pk}']")
    with page.expect_download() as info:
        page.click(f"tr[data-batch='{batch.pk}'] button[data-action=download_batch]")
    download = info.value
    assert download.suggested_filename == batch.filename
    content = Path(download.path()).read_bytes()
    records = content.split(b"\r\n")[:-1]
    assert [r[0:1] for r in records] == [b"1", b"2", b"8", b"9"]  # header, one transfer, trailer, end
    assert all(len(r) == 120 for r in records)
    assert int(records[1][80:90]) == 7_800  # 振込金額

    page.reload()
    page.click(f"tr[data-batch='{batch.pk}'] a[data-action=mark_transferred]")
    page.click("button[data-action=mark_transferred]")
    page.wait_for_selector(f"text=振込バッチ#{batch.pk} を振込完了にしました。")
    batch.refresh_from_db()
    assert batch.status == TransferBatch.Status.TRANSFERRED


def test_support_agent_is_refused_the_bank_transfer_page(page, make_staff):
    make_staff(SUPPORT, "sato")
    log_in(page, "sato")
    assert "振込バッチ" not in page.inner_text("nav.sections")
    response = page.goto(page.base + "/staff/transfers/")
    assert response.status == 403
    assert page.is_visible("text=権限がありません")


def test_dashboard_and_order_page_render_for_screenshots(page, make_staff, tmp_path):
    """Screenshots for the README; ``STAFF_SCREENSHOTS_DIR=docs`` writes them there."""
    user = make_staff(SUPPORT, "sato")
    user.groups.add(*[Group.objects.get_or_create(name=name)[0] for name in (FRAUD, FINANCE)])
    screening.install_default_rules()  # a live-server test starts from a flushed database
    rich = factories.place(factories.ListingFactory(price=58_000, title="ノートパソコン 14インチ"),
                           factories.ListingFactory(price=2_480, title="USB-C 充電ケーブル"), external_id="rich")
    scenario.seed_003_tracking(rich)
    scenario.logins_for(rich.customer)
    scenario.callback(rich.customer, "配達完了になっているが荷物が見当たらない", rich)
    scenario.callback(factories.CustomerFactory(name="鈴木花子"), "コンビニ払いの番号がわからない")
    scenario.pickup_order(failed_attempts=5)
    scenario.konbini_order_with_code()
    scenario.held_order()
    # At noon JST on those days: the parcel's deadline (23:59:59 JST on the notice date + 11 days) is
    # then tomorrow night and the konbini deadline tonight, whatever the hour the test runs at.
    noon_today = local(timezone.now()).replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(noon_today - timedelta(days=10)):
        scenario.pickup_order(external_id="pickup-old")
    with time_machine.travel(noon_today - timedelta(days=6)):
        scenario.konbini_order_with_code(external_id="konbini-old")
    out = Path(os.environ.get("STAFF_SCREENSHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)

    log_in(page, "sato")
    tiles = page.inner_text(".tiles")
    assert "ロック中のコンビニ受取" in tiles and "折り返し電話の依頼" in tiles
    counts = {tile.get_attribute("data-tile"): int(tile.inner_text().split()[0])
              for tile in page.query_selector_all("[data-tile]")}
    assert counts["pickups_locked"] == 1 and counts["pickups_expiring"] == 1 and counts["callbacks"] == 2
    assert counts["konbini_due_today"] == 1 and counts["on_hold"] == 1
    assert page.is_visible("[data-testid=maintenance]")
    page.screenshot(path=str(out / "dashboard.png"), full_page=True)

    page.goto(page.base + f"/staff/orders/{rich.number}/")
    assert "大阪茨木AFC支店" in page.inner_text("[data-testid=tracking]")
    assert "高額注文" in page.inner_text("body")
    page.screenshot(path=str(out / "order.png"), full_page=True)
    assert (out / "dashboard.png").stat().st_size > 10_000
