"""PUT /customers/{id}/bank-account (API.md): validated against the real Zengin bank/branch list."""

from __future__ import annotations

import pytest

from payments.models import BankAccount
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/cust-1/bank-account"
VALID = {"bank_code": "0001", "branch_code": "001", "account_type": "ordinary", "account_number": "1234567",
         "holder_kana": "ヤマダ タロウ"}


@pytest.fixture
def customer():
    return CustomerFactory(external_id="cust-1")


def test_a_valid_account_is_stored_with_the_bank_and_branch_names_and_half_width_kana(storefront, customer):
    response = storefront.json("put", URL, VALID)

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "bank_code": "0001", "bank_name": "みずほ", "branch_code": "001", "branch_name": "東京営業部",
        "account_type": "ordinary", "account_number": "1234567", "holder_kana": "ﾔﾏﾀﾞ ﾀﾛｳ", "use_for_refunds": False,
    }
    assert storefront.json("get", URL).json()["holder_kana"] == "ﾔﾏﾀﾞ ﾀﾛｳ"


def test_full_width_digits_japanese_account_type_and_hiragana_are_accepted(storefront, customer):
    response = storefront.json("put", URL, {"bank_code": "０００５", "branch_code": "００１", "account_type": "当座",
                                            "account_number": "７６５－４３２１", "holder_kana": "やまだ　はなこ",
                                            "use_for_refunds": True})

    assert response.status_code == 200, response.json()
    account = BankAccount.objects.get(customer=customer)
    assert (account.bank_code, account.bank_name, account.account_type, account.account_number) == (
        "0005", "三菱ＵＦＪ", "checking", "7654321")
    assert (account.holder_kana, account.use_for_refunds) == ("ﾔﾏﾀﾞ ﾊﾅｺ", True)


def test_putting_again_replaces_the_account_and_keeps_the_refund_choice_when_omitted(storefront, customer):
    storefront.json("put", URL, {**VALID, "use_for_refunds": True})
    response = storefront.json("put", URL, {**VALID, "bank_code": "0009", "branch_code": "001"})

    assert response.status_code == 200
    account = BankAccount.objects.get(customer=customer)
    assert (account.bank_code, account.use_for_refunds) == ("0009", True)


@pytest.mark.parametrize("change, code, field", [
    ({"bank_code": "0002"}, "bank_not_found", "bank_code"),
    ({"branch_code": "999"}, "branch_not_found", "branch_code"),
    ({"bank_code": "12"}, "invalid_bank_code", "bank_code"),
    ({"branch_code": "01a"}, "invalid_branch_code", "branch_code"),
    ({"account_type": "savings"}, "invalid_account_type", "account_type"),
    ({"account_number": "123456"}, "invalid_account_number", "account_number"),
    ({"holder_kana": "山田太郎"}, "invalid_holder_kana", "holder_kana"),
    ({"holder_kana": "ｱ" * 31}, "invalid_holder_kana", "holder_kana"),
    ({"use_for_refunds": "maybe"}, "invalid", "use_for_refunds"),
])
def test_bad_input_is_refused_with_a_clear_code_and_nothing_is_written(storefront, customer, change, code, field):
    response = storefront.json("put", URL, {**VALID, **change})

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == (code, field)
    assert body["message"]
    assert not BankAccount.objects.exists()


@pytest.mark.parametrize("change, field", [
    ({"use_for_refunds": "yes"}, "use_for_refunds"),
    ({"use_for_refunds": "true"}, "use_for_refunds"),
    ({"use_for_refunds": 1}, "use_for_refunds"),
    ({"bank_code": 1}, "bank_code"),
    ({"branch_code": 1}, "branch_code"),
    ({"account_number": 1234567}, "account_number"),
    ({"account_type": True}, "account_type"),
    ({"holder_kana": ["ヤマダ"]}, "holder_kana"),
])
def test_wrong_types_are_a_400_and_nothing_is_written(storefront, customer, change, field):
    response = storefront.json("put", URL, {**VALID, **change})

    assert response.status_code == 400, response.json()
    body = response.json()
    assert (body["code"], body["field"]) == ("invalid", field)
    assert body["message"]
    assert not BankAccount.objects.exists()


def test_a_wrong_type_leaves_the_previous_account_and_refund_choice_untouched(storefront, customer):
    storefront.json("put", URL, VALID)
    response = storefront.json("put", URL, {**VALID, "account_number": "7777777", "use_for_refunds": "yes"})

    assert response.status_code == 400
    account = BankAccount.objects.get(customer=customer)
    assert (account.account_number, account.use_for_refunds) == ("1234567", False)


def test_an_error_leaves_the_previous_account_untouched(storefront, customer):
    storefront.json("put", URL, VALID)
    storefront.json("put", URL, {**VALID, "account_number": "7777777", "branch_code": "998"})
    assert BankAccount.objects.get(customer=customer).account_number == "1234567"


def test_a_missing_field_is_refused(storefront, customer):
    response = storefront.json("put", URL, {k: v for k, v in VALID.items() if k != "holder_kana"})
    assert response.status_code == 400
    assert response.json()["field"] == "holder_kana"


def test_unknown_customer_is_404(storefront):
    response = storefront.json("put", "/api/v1/customers/nobody/bank-account", VALID)
    assert (response.status_code, response.json()["code"]) == (404, "customer_not_found")


def test_no_account_yet_is_404_on_get(storefront, customer):
    response = storefront.json("get", URL)
    assert (response.status_code, response.json()["code"]) == (404, "bank_account_not_found")


def test_only_the_storefront_may_set_an_account(seller_client, customer):
    assert seller_client.json("put", URL, VALID).status_code == 403
