"""Bank-transfer refunds batched into a Zengin 総合振込 file, downloaded by finance and marked
transferred. The file is parsed back here at its byte positions (全銀協 layout)."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.db import IntegrityError, transaction

from backoffice.errors import Conflict
from backoffice.timeutil import JST
from payments import jobs
from payments.models import Refund, TransferBatch, TransferItem
from payments.services import bank
from shop.models import CancellationReason, Message
from shop.services import orders
from tests.factories import CustomerFactory, ListingFactory, place

pytestmark = pytest.mark.django_db

S = Refund.Status
# Monday 2026-11-23 10:00 JST: the transfer date is the next business day, Tuesday 11-24.
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=JST)


def bank_refund(captured, *, external_id: str, price: int, bank_code="0005", branch_code="001",
                holder="ヤマダ　タロウ", account_type="ordinary", number="1234567") -> Refund:
    customer = CustomerFactory(external_id=external_id)
    bank.set_bank_account(customer=customer, bank_code=bank_code, branch_code=branch_code, account_type=account_type,
                          account_number=number, holder_kana=holder, use_for_refunds=True)
    order = place(ListingFactory(price=price), method="konbini", external_id=external_id)
    orders.mark_paid(order, amount=order.total, actor="konbini:lawson")
    with captured(execute=True):
        orders.cancel(order, reason=CancellationReason.CUSTOMER_REQUEST, actor="storefront:test")
    refund = Refund.objects.get(order=order)
    assert (refund.method, refund.status) == ("bank_transfer", S.PROCESSING)
    return refund


@pytest.fixture
def two_refunds(django_capture_on_commit_callbacks):
    with time_machine.travel(MONDAY, tick=False):
        first = bank_refund(django_capture_on_commit_callbacks, external_id="c1", price=1500)
        second = bank_refund(django_capture_on_commit_callbacks, external_id="c2", price=98000, bank_code="0009",
                             branch_code="001", holder="すずき　いちろう", account_type="checking", number="0000123")
    return first, second


def test_the_daily_job_writes_a_zengin_file_that_parses_back_field_by_field(two_refunds):
    first, second = two_refunds
    with time_machine.travel(MONDAY, tick=False):
        summary = jobs.batch_bank_transfers()
    batch = TransferBatch.objects.get()
    assert summary == {"batch": batch.pk, "count": 2, "total": first.amount + second.amount}

    _, content = bank.download(batch_id=batch.pk, actor="staff:finance")
    assert content.endswith(b"\r\n")
    lines = content.split(b"\r\n")[:-1]
    assert [len(line) for line in lines] == [120] * 5
    assert [line[0:1] for line in lines] == [b"1", b"2", b"2", b"8", b"9"]
    assert content.decode("shift_jis").encode("shift_jis") == content

    header = lines[0]
    assert header[1:3] == b"21"  # 種別コード: 総合振込
    assert header[3:4] == b"0"  # コード区分
    assert header[4:14] == b"1234567890"  # 依頼人コード (settings)
    assert header[14:54].decode("shift_jis") == "ｶ)ｺﾝﾋﾞﾆﾊﾞﾂｸｵﾌｲｽ".ljust(40)
    assert header[54:58] == b"1124"  # 取組日 MMDD
    assert header[58:62] == b"0001"
    assert header[62:77].decode("shift_jis") == "ﾐｽﾞﾎ".ljust(15)
    assert header[77:80] == b"001"
    assert header[80:95].decode("shift_jis") == "ﾄｳｷﾖｳ".ljust(15)
    assert header[95:96] == b"1"
    assert header[96:103] == b"1234567"
    assert header[103:120] == b" " * 17

    data1, data2 = lines[1], lines[2]
    assert data1[1:5] == b"0005"
    assert data1[5:20].decode("shift_jis") == "ﾐﾂﾋﾞｼﾕ-ｴﾌｼﾞｴｲ".ljust(15)[:15]
    assert data1[20:23] == b"001"
    assert data1[23:38].decode("shift_jis") == "ﾎﾝﾃﾝ".ljust(15)
    assert data1[38:42] == b"    "  # 手形交換所番号
    assert data1[42:43] == b"1"  # 普通
    assert data1[43:50] == b"1234567"
    assert data1[50:80].decode("shift_jis") == "ﾔﾏﾀﾞ ﾀﾛｳ".ljust(30)
    assert data1[80:90] == f"{first.amount:010d}".encode()
    assert data1[90:91] == b"0"
    assert data1[91:101] == str(first.pk).ljust(10).encode()  # 顧客コード1 = the refund
    assert data1[111:112] == b"7"  # 振込指定区分: 電信
    assert data1[113:120] == b" " * 7

    assert data2[1:5] == b"0009"
    assert data2[20:23] == b"001"
    assert data2[42:43] == b"2"  # 当座
    assert data2[43:50] == b"0000123"
    assert data2[50:80].decode("shift_jis") == "ｽｽﾞｷ ｲﾁﾛｳ".ljust(30)
    assert data2[80:90] == f"{second.amount:010d}".encode()

    trailer = lines[3]
    assert trailer[1:7] == b"000002"
    assert trailer[7:19] == f"{first.amount + second.amount:012d}".encode()
    assert trailer[19:120] == b" " * 101
    assert lines[4][1:120] == b" " * 119


def test_download_freezes_the_batch_and_mark_transferred_completes_its_refunds(two_refunds,
                                                                             django_capture_on_commit_callbacks):
    batch = bank.create_batch()
    with pytest.raises(Conflict) as exc:
        bank.mark_transferred(batch_id=batch.pk, actor="staff:finance")
    assert exc.value.code == "batch_not_downloaded"

    _, first_bytes = bank.download(batch_id=batch.pk, actor="staff:finance")
    _, again = bank.download(batch_id=batch.pk, actor="staff:other")
    batch.refresh_from_db()
    assert first_bytes == again
    assert (batch.status, batch.downloaded_by) == ("downloaded", "staff:finance")

    with django_capture_on_commit_callbacks(execute=True):
        bank.mark_transferred(batch_id=batch.pk, actor="staff:finance")
        bank.mark_transferred(batch_id=batch.pk, actor="staff:finance")  # repeated: no change

    for refund in two_refunds:
        refund.refresh_from_db()
        assert refund.status == S.SUCCEEDED
        assert Message.objects.filter(dedupe_key=f"refund_completed:{refund.pk}").count() == 1
        kinds = list(refund.order.events.filter(kind__startswith="refund_").values_list("kind", flat=True))
        assert kinds[-2:] == ["refund_batched", "refund_succeeded"]
    assert TransferBatch.objects.get().status == "transferred"


def test_a_refund_is_in_at_most_one_batch(two_refunds):
    batch = bank.create_batch()
    assert bank.create_batch() is None  # nothing left waiting
    with pytest.raises(IntegrityError), transaction.atomic():
        TransferItem.objects.create(batch=batch, refund=two_refunds[0], amount=1, bank_code="0001",
                                    branch_code="001", account_type="ordinary", account_number="1234567",
                                    holder_kana="ｱ")


def test_a_refund_requested_after_the_batch_goes_into_the_next_one(two_refunds, django_capture_on_commit_callbacks):
    first_batch = bank.create_batch()
    later = bank_refund(django_capture_on_commit_callbacks, external_id="c3", price=700)
    second_batch = bank.create_batch()

    assert list(second_batch.items.values_list("refund_id", flat=True)) == [later.pk]
    assert first_batch.count == 2 and second_batch.count == 1


def test_no_waiting_refunds_no_batch():
    assert jobs.batch_bank_transfers() == {"batch": None, "count": 0, "total": 0}
    assert not TransferBatch.objects.exists()


def test_a_batch_costs_a_fixed_number_of_queries_plus_one_timeline_entry_per_refund(
        two_refunds, django_assert_max_num_queries):
    # 7: the locked read, the re-check of the locked refunds (a concurrent batch), accounts, batch,
    # items, savepoints; then one timeline entry per refund.
    with django_assert_max_num_queries(7 + len(two_refunds)):
        batch = bank.create_batch()
    assert batch.count == 2


def test_a_batch_not_yet_downloaded_can_be_discarded_and_its_refunds_wait_for_the_next(two_refunds):
    batch = bank.create_batch()
    assert bank.discard(batch_id=batch.pk, actor="staff:finance") == 2
    assert not TransferBatch.objects.exists()

    again = bank.create_batch()
    assert sorted(again.items.values_list("refund_id", flat=True)) == sorted(r.pk for r in two_refunds)
    assert two_refunds[0].order.events.filter(kind="refund_unbatched").count() == 1


def test_a_downloaded_batch_is_immutable(two_refunds):
    batch = bank.create_batch()
    bank.download(batch_id=batch.pk, actor="staff:finance")
    with pytest.raises(Conflict) as exc:
        bank.discard(batch_id=batch.pk, actor="staff:finance")
    assert exc.value.code == "batch_immutable"
    assert TransferBatch.objects.get().items.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(4))
def test_batches_created_at_once_share_the_waiting_refunds_each_in_exactly_one(django_capture_on_commit_callbacks,
                                                                              round_):
    """SPEC §6: the daily job may run twice at once (a retry, a staff click): ``skip_locked``."""
    from tests.support import run_concurrently

    with time_machine.travel(MONDAY, tick=False):
        waiting = [bank_refund(django_capture_on_commit_callbacks, external_id=f"c{i}", price=1000 + i)
                   for i in range(6)]
    batches = [b for b in run_concurrently(4, lambda i: bank.create_batch(actor=f"job-{i}")) if b is not None]
    assert batches  # at least one run batched them
    in_batches = sorted(TransferItem.objects.values_list("refund_id", flat=True))
    assert in_batches == sorted(r.pk for r in waiting)  # every refund in exactly one batch
    for batch in TransferBatch.objects.all():
        items = TransferItem.objects.filter(batch=batch)
        assert (batch.count, batch.total) == (items.count(), sum(i.amount for i in items))
