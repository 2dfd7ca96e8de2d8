"""Issue 17 in a real browser (Debian's chromium, headless, Playwright): a night shift's console.
One test per item: work queues (1), handover (2), COD address blocks (3), plans, refusals,
errors and English (4), search, CSV, bulk actions and a 390 px phone (5). The screenshots in
docs/ come from here (``STAFF_SCREENSHOTS_DIR=docs``)."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.utils import timezone

from fraud.models import AddressReputation, Report, ReportPriority
from fraud.services import addresses, playbook, screening
from shop.models import CallbackRequest, Customer, OrderStatus
from staff.models import Activity
from staff.permissions import FINANCE, FRAUD, SUPPORT
from tests import factories
from tests.staff import scenario
from tests.staff.test_browser import ARGS, CHROMIUM, browser, log_in  # noqa: F401 (the browser fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make browser)"),
]
assert ARGS

SAPPORO = {"type": "home", "postal_code": "060-0042", "prefecture": "北海道", "city": "札幌市中央区",
           "address_line": "大通西3丁目7番1号", "recipient_name": "山田太郎", "phone": "090-1234-5678"}


def _page(browser, live_server, width: int = 1400, height: int = 900):  # noqa: F811
    context = browser.new_context(locale="en-US", viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base = live_server.url
    return page


@pytest.fixture
def page(browser, live_server):  # noqa: F811
    page = _page(browser, live_server)
    yield page
    page.context.close()


@pytest.fixture
def phone(browser, live_server):  # noqa: F811
    """An iPhone-sized screen: 390 px wide."""
    page = _page(browser, live_server, 390, 844)
    yield page
    page.context.close()


def _out(tmp_path) -> Path:
    out = Path(os.environ.get("STAFF_SCREENSHOTS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _night_shift():
    """Queues with something old in each: a call-back 3 hours old (past its 2-hour SLA), a new
    one, an unauthorized-order report (high from the start) and a locked pickup."""
    screening.install_default_rules()  # a live-server test starts from a flushed database
    old_customer = factories.CustomerFactory(name="鈴木花子", phone="+819011112222")
    with time_machine.travel(timezone.now() - timedelta(hours=3)):
        old = scenario.callback(old_customer, "コンビニ払いの番号がわからない")
    order = factories.place(factories.ListingFactory(price=12_800, title="ノートパソコン"), external_id="night")
    new = scenario.callback(order.customer, "配達について", order)
    report = playbook.report_unauthorized_order(customer=order.customer, orders=[order], secure_account=False,
                                                description="身に覚えがない", actor="storefront")
    scenario.pickup_order(external_id="locked", failed_attempts=5)
    return old, new, order, report


def test_item1_queues_show_age_and_sla_oldest_first_and_every_tile_opens_its_filtered_list(
        page, make_staff, tmp_path):
    user = make_staff(SUPPORT, "sato")
    user.groups.add(Group.objects.get_or_create(name=FRAUD)[0])
    old, new, order, report = _night_shift()
    assert report.priority == ReportPriority.HIGH  # priority by type: an unauthorized order is high
    log_in(page, "sato")

    tile = page.locator("[data-tile=callbacks]")
    assert tile.locator(".count").inner_text() == "2"
    assert "最も古いもの: 3時間" in tile.inner_text()
    assert "1件が目安時間を超過" in tile.inner_text()
    tile.click()
    page.wait_for_url("**/staff/callbacks/")
    page.screenshot(path=str(_out(tmp_path) / "callbacks.png"), full_page=True)
    rows = page.locator("tr[data-callback]")
    assert rows.nth(0).get_attribute("data-callback") == str(old.pk)  # oldest first
    assert "overdue" in rows.nth(0).get_attribute("class")
    assert "overdue" not in (rows.nth(1).get_attribute("class") or "")
    assert page.locator(f"#callback-{old.pk} a[href^='tel:']").get_attribute("href") == f"tel:{old.phone}"

    page.goto(page.base + "/staff/")
    page.click("[data-tile=reports_high]")
    page.wait_for_url("**/staff/reports/?priority=high")
    assert page.locator("tr[data-report]").count() == 1
    assert "身に覚えのない注文" in page.inner_text(f"tr[data-report='{report.pk}']")
    page.goto(page.base + "/staff/")
    page.click("[data-tile=konbini_due_today]")  # the tile that listed nothing now opens its list
    page.wait_for_url("**/staff/konbini/due-today/")


def test_item1_finance_sees_its_own_dashboard_without_call_backs_or_phone_numbers(page, make_staff):
    make_staff(FINANCE, "keiri")
    _night_shift()
    log_in(page, "keiri")
    tiles = [t.get_attribute("data-tile") for t in page.query_selector_all("[data-tile]")]
    assert tiles[0] == "failed_refunds" and "transfers_ready" in tiles
    assert "callbacks" not in tiles and "reports_high" not in tiles
    assert "090-1234-5678" not in page.inner_text("body")  # no call-back phone numbers


def test_item2_a_call_back_is_claimed_closed_with_its_outcome_and_the_shift_leaves_notes_and_a_log(
        page, make_staff, tmp_path):
    make_staff(SUPPORT, "sato")
    old, new, order, report = _night_shift()
    log_in(page, "sato")

    page.goto(page.base + "/staff/callbacks/")
    page.click(f"#callback-{old.pk} a[data-action=claim]")
    page.click("button[data-action=claim_callback]")
    page.wait_for_selector(f"text=折り返し電話 #{old.pk} の担当になりました。")
    assert "担当: staff:sato" in page.inner_text(f"#callback-{old.pk}")
    page.click(f"#callback-{old.pk} a[data-action=complete]")
    page.select_option("select[name=outcome]", "no_answer")
    page.fill("textarea[name=note]", "留守電に折り返し番号を残した")
    page.click("button[data-action=complete_callback]")
    page.wait_for_selector(f"text=折り返し電話 #{old.pk} を対応済みにしました。")
    assert page.locator(f"#callback-{old.pk}").count() == 0  # out of the open queue...
    page.goto(page.base + "/staff/callbacks/?show=closed")  # ...but not gone
    assert "不在・留守番電話：留守電に折り返し番号を残した" in page.inner_text(f"#callback-{old.pk}")
    old.refresh_from_db()
    assert (old.status, old.outcome, old.claimed_by) == (CallbackRequest.Status.DONE, "no_answer", "staff:sato")

    page.goto(page.base + f"/staff/orders/{order.number}/")
    page.fill("[data-testid=notes] textarea[name=body]", "夜間：お客様から再度電話あり。朝番で配送業者に確認")
    page.click("button[data-action=add_note]")
    page.wait_for_selector("text=社内メモを残しました。")
    assert "朝番で配送業者に確認" in page.inner_text("[data-testid=notes]")

    page.goto(page.base + f"/staff/customers/{order.customer_id}/")
    assert "注文確認" in page.inner_text("[data-testid=messages]")  # the customer's message history

    page.click("nav.sections >> text=操作履歴")
    log = page.inner_text("[data-testid=activity]")
    assert "折り返し電話の担当" in log and "折り返し電話の完了" in log and "社内メモ" in log
    page.select_option("select[name=action]", "add_note")
    page.click("[data-testid=activity-filters] button[type=submit]")
    page.wait_for_url("**action=add_note**")
    assert page.locator("[data-testid=activity] tbody tr").count() == 1
    page.screenshot(path=str(_out(tmp_path) / "activity.png"), full_page=True)
    assert Activity.objects.filter(username="sato").count() == 3
    assert LogEntry.objects.filter(user__username="sato").count() == 3  # the admin's 最近行った操作 too


def test_item3_the_address_as_the_order_page_prints_it_finds_its_key_and_cod_is_blocked_by_hand(
        page, make_staff, tmp_path):
    make_staff(FRAUD, "fujii")
    screening.install_default_rules()
    order = factories.place(factories.ListingFactory(price=3_000), destination=SAPPORO, external_id="sapporo")
    report = Report.objects.create(type="cod_harassment", customer=order.customer, address_key=order.address_key,
                                   filed_by="staff", created_at=timezone.now())
    log_in(page, "fujii")
    page.click("nav.sections >> text=代引き停止の住所")
    page.fill("form.filters input[name=q]", "大通西3丁目7番")
    page.click("text=住所を検索")
    result = page.locator("[data-testid=address-results] a.mono")
    assert result.count() == 1 and result.inner_text() == order.address_key
    result.click()
    page.click("a[data-action=block_address]")
    page.fill("textarea[name=reason]", "お客様から電話：身に覚えのない代引きが続いている")
    page.click("button[data-action=block_address]")
    page.wait_for_selector("text=この住所への代引きを停止しました。")
    assert "代引き停止中" in page.inner_text("[data-testid=address-state]")
    assert AddressReputation.objects.get(key=order.address_key).cod_blocked
    assert addresses.screen({**SAPPORO, "destination_type": "home"}, "cod").cod_reasons == ("address_cod_blocked",)

    page.goto(page.base + f"/staff/reports/{report.pk}/")
    assert "代引き停止中" in page.inner_text("[data-testid=address-state]")  # the report shows the state
    page.goto(page.base + f"/staff/addresses/detail/?key={order.address_key}")
    page.click("a[data-action=lift_address_block]")
    page.fill("textarea[name=reason]", "誤報と確認")
    page.click("button[data-action=lift_address_block]")
    page.wait_for_selector("text=この住所の代引き停止を解除しました。")
    assert "停止解除済み" in page.inner_text("[data-testid=address-state]")
    page.screenshot(path=str(_out(tmp_path) / "address.png"), full_page=True)


def test_item4_plans_refusals_friendly_errors_and_english(page, make_staff):
    make_staff(FRAUD, "fujii").groups.add(Group.objects.get_or_create(name=SUPPORT)[0])
    old, new, order, report = _night_shift()
    log_in(page, "fujii")

    page.goto(page.base + f"/staff/reports/{report.pk}/")
    page.click("a[data-action=secure_account]")
    plan = page.inner_text("ul.consequences")
    assert f"注文 {order.number}：" in plan and "12,800円" in plan and "返金の合計：12,800円" in plan

    page.goto(page.base + f"/staff/orders/{order.number}/actions/cancel/")
    page.context.add_cookies([{"name": "csrftoken", "value": "x" * 32, "url": page.base}])  # a stale page
    page.click("button[data-action=cancel]")
    page.wait_for_selector("text=画面の有効期限が切れました")
    body = page.inner_text("body")
    assert "何も実行されていません" in body and "DEBUG" not in body and "CSRF" not in body

    scenario.ship(order)
    page.goto(page.base + f"/staff/orders/{order.number}/actions/cancel/")
    assert page.inner_text("[data-testid=refusal]") == "発送済みのご注文はキャンセルできません。"

    response = page.goto(page.base + "/staff/orders/000-0000000-0000000/")
    assert response.status == 404 and page.is_visible("text=ページが見つかりません")

    page.goto(page.base + "/staff/")
    page.select_option("select[name=language]", "en")
    page.wait_for_selector("text=Call-back requests")
    chrome = page.inner_text(".tiles") + page.inner_text("nav.sections") + page.inner_text("h1")
    assert not re.search(r"[\u3040-\u30ff\u3400-\u9fff]", chrome), chrome
    page.goto(page.base + "/staff/reports/")
    assert "Unauthorized order" in page.inner_text(f"tr[data-report='{report.pk}']")
    assert "unauthorized_order" not in page.inner_text("main")


def test_item5_search_by_name_and_partial_number_csv_and_bulk_cancel(page, make_staff, tmp_path):
    make_staff(SUPPORT, "sato")
    screening.install_default_rules()
    Customer.objects.create(external_id="kana", email="hanako.suzuki@example.jp", name="スズキ ハナコ")
    first = factories.place(factories.ListingFactory(price=1_000), external_id="bulk")
    second = factories.place(factories.ListingFactory(price=2_000), external_id="bulk")
    log_in(page, "sato")

    page.fill("input[name=q]", "すずき")  # hiragana finds the katakana name (jaconv)
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**/staff/search/**")
    assert "スズキ ハナコ" in page.inner_text("[data-testid=customer-matches]")
    page.fill("input[name=q]", "hanako.su")  # the beginning of an e-mail address
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("[data-testid=customer-matches] >> text=hanako.suzuki@example.jp")

    page.fill("input[name=q]", first.number.replace("-", "")[-9:])  # part of the number, across a hyphen
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("[data-testid=order-matches]")
    assert first.number in page.inner_text("[data-testid=order-matches]")
    with page.expect_download() as info:
        page.click("[data-testid=order-matches] [data-testid=csv]")
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][:2] == ["注文番号", "注文日時"] and first.number in [r[0] for r in rows[1:]]

    page.goto(page.base + f"/staff/customers/{first.customer_id}/")
    page.check(f"input[name=ids][value='{first.pk}']")
    page.check(f"input[name=ids][value='{second.pk}']")
    page.click("button[data-action=bulk_cancel]")
    page.wait_for_url("**/staff/orders/cancel/**")
    plan = page.inner_text("[data-testid=bulk-cancel-plan]")
    assert first.number in plan and second.number in plan and "発送準備中" in plan
    assert page.inner_text("[data-testid=refund-total]") == "3,000円"
    page.click("button[data-action=bulk_cancel]")
    page.wait_for_selector("text=2件の注文をキャンセルしました。")
    first.refresh_from_db()
    assert first.status == OrderStatus.CANCELLED


def test_item5_the_console_is_usable_on_a_390_px_phone(phone, make_staff, tmp_path):
    make_staff(SUPPORT, "sato")
    old, new, order, report = _night_shift()
    out = _out(tmp_path)
    log_in(phone, "sato")

    def fits() -> bool:
        return phone.evaluate("document.documentElement.scrollWidth") <= 392

    assert fits()
    assert phone.locator("[data-tile=callbacks]").bounding_box()["width"] > 120  # two tiles a row
    phone.screenshot(path=str(out / "dashboard-390.png"), full_page=True)
    phone.goto(phone.base + "/staff/callbacks/")
    assert fits()
    cell = phone.locator(f"#callback-{old.pk} td").nth(4)  # the topic: readable, not one character wide
    assert cell.bounding_box()["width"] > 100
    phone.screenshot(path=str(out / "callbacks-390.png"), full_page=True)
    phone.goto(phone.base + f"/staff/orders/{order.number}/")
    assert fits()
    phone.screenshot(path=str(out / "order-390.png"), full_page=True)


def test_item4_the_playbook_leaves_revoked_sessions_and_the_reset_on_the_customer_page_and_a_tick_is_undone(
        page, make_staff, tmp_path):
    make_staff(FRAUD, "fujii")
    old, new, order, report = _night_shift()
    scenario.logins_for(order.customer)
    log_in(page, "fujii")
    page.goto(page.base + f"/staff/reports/{report.pk}/")
    page.click("a[data-action=secure_account]")
    page.click("button[data-action=secure_account]")
    page.wait_for_selector("text=アカウント保護を実行しました")

    page.goto(page.base + f"/staff/customers/{order.customer_id}/")
    revoked = page.inner_text("[data-testid=session-revocations] tbody tr")
    assert "アカウント保護（ログインの無効化）" in revoked and f"不正報告 #{report.pk}" in revoked
    assert "staff:fujii" in revoked and "203.0.113.10" in revoked and "198.51.100.77" in revoked
    reset = page.locator("[data-testid=password-resets] tbody tr").first
    assert reset.get_attribute("data-state") == "pending" and "再設定待ち" in reset.inner_text()
    page.screenshot(path=str(_out(tmp_path) / "customer-secured.png"), full_page=True)

    # The playbook ticked "secured_account"; the agent undoes it from the report page.
    page.goto(page.base + f"/staff/reports/{report.pk}/")
    page.click("a[data-action=report_uncheck][data-code=secured_account]")
    assert "の完了（staff:fujii・" in page.inner_text("ul.consequences")
    page.fill("textarea[name=note]", "お客様の別アカウントで実行していた")
    page.click("button[data-action=report_uncheck]")
    page.wait_for_selector("text=チェック項目の完了を取り消しました。")
    assert page.locator("a[data-action=report_uncheck][data-code=secured_account]").count() == 0
    assert "お客様の別アカウントで実行していた" in page.inner_text("ol.timeline")
    page.go_back()  # the confirm page again, from the browser's history: its form is spent
    page.reload()
    assert "まだ完了していません" in page.inner_text("ul.consequences")
    page.goto(page.base + "/staff/activity/")
    assert "チェック項目の取り消し" in page.inner_text("[data-testid=activity]")


def test_item5_keyboard_shortcuts_move_through_the_console_and_never_fire_while_typing(page, make_staff, tmp_path):
    user = make_staff(SUPPORT, "sato")
    user.groups.add(Group.objects.get_or_create(name=FRAUD)[0])
    old, new, order, report = _night_shift()
    second = Report.objects.create(type="other", customer=order.customer, filed_by="staff", created_at=timezone.now())
    log_in(page, "sato")

    page.keyboard.press("?")  # the help overlay lists them
    overlay = page.locator("[data-testid=shortcuts]")
    assert overlay.is_visible()
    assert "不正報告" in overlay.locator("tr[data-shortcut='g r']").inner_text()
    assert overlay.locator("tr[data-shortcut='g t']").count() == 0  # finance's transfer batches: not this user's
    page.screenshot(path=str(_out(tmp_path) / "shortcuts.png"))
    page.keyboard.press("Escape")
    assert not overlay.is_visible()

    page.keyboard.press("g")
    page.keyboard.press("r")
    page.wait_for_url("**/staff/reports/")
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert page.locator("tr.kbd-current").get_attribute("data-report") == str(second.pk)
    page.keyboard.press("k")
    assert page.locator("tr.kbd-current").get_attribute("data-report") == str(report.pk)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/staff/reports/{report.pk}/")

    page.keyboard.press("g")
    page.keyboard.press("c")
    page.wait_for_url("**/staff/callbacks/")
    page.keyboard.press("g")
    page.keyboard.press("d")
    page.wait_for_url(re.compile(r".*/staff/$"))

    page.keyboard.press("/")  # the search box, where letters are letters
    assert page.evaluate("document.activeElement.name") == "q"
    page.keyboard.type("gr?j")
    assert page.input_value("input[name=q]") == "gr?j"
    assert page.url.endswith("/staff/") and not overlay.is_visible()
    page.goto(page.base + f"/staff/orders/{order.number}/")
    page.click("[data-testid=notes] textarea[name=body]")
    page.keyboard.type("g d j k")
    assert page.input_value("[data-testid=notes] textarea[name=body]") == "g d j k"
    assert f"/staff/orders/{order.number}/" in page.url
