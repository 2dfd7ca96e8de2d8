"""The chain table (SPEC §3) and the customers' steps at the store (seed 003)."""

from __future__ import annotations

from backoffice.checkdigits import luhn_valid
from payments.konbini.chains import CHAINS, LOPPI_CHECK_CODE
from payments.konbini.codes import new_number


def test_seven_eleven_numbers_have_13_digits_and_the_others_11():
    assert {code: chain.digits for code, chain in CHAINS.items()} == {
        "seven_eleven": 13, "lawson": 11, "ministop": 11, "familymart": 11, "seicomart": 11, "daily_yamazaki": 11}


def test_only_loppi_and_famiport_chains_ask_for_the_8888_check_code():
    assert LOPPI_CHECK_CODE == "8888"
    assert {code for code, chain in CHAINS.items() if chain.check_code == "8888"} == {"lawson", "ministop", "familymart"}
    assert all(chain.check_code is None for code, chain in CHAINS.items()
               if code in ("seven_eleven", "seicomart", "daily_yamazaki"))


def test_each_chain_names_its_number_as_the_seed_does():
    assert CHAINS["seven_eleven"].number_name == "払込票番号"
    assert CHAINS["lawson"].number_name == "お支払い番号"
    assert CHAINS["seicomart"].number_name == "オンライン決済番号"
    assert CHAINS["daily_yamazaki"].number_name == "オンライン決済番号"


def test_loppi_steps_follow_the_menu_path_and_remind_of_8888():
    steps = CHAINS["lawson"].instructions("12345678903")
    text = "\n".join(steps)
    assert steps[0].startswith("店内のLoppiで「各種代金・料金お支払い」")
    assert text.index("「各種代金・料金お支払い」") < text.index("「各種代金お支払い」") < text.index("12345678903") \
        < text.index("「8888」")
    assert "忘れる方が多い" in text
    assert "申込券をレジ" in text
    assert CHAINS["ministop"].instructions("12345678903") == steps


def test_famiport_steps_include_number_entry_screen_and_agreement():
    text = "\n".join(CHAINS["familymart"].instructions("12345678903"))
    for button in ("「代金支払い」", "「各種代金お支払い」", "「番号入力画面に進む」", "「8888」", "「同意して利用する」"):
        assert button in text
    assert text.index("「8888」") < text.index("「同意して利用する」")


def test_seven_eleven_number_is_told_to_the_clerk_or_printed():
    text = "\n".join(CHAINS["seven_eleven"].instructions("1234567890128"))
    assert "13桁の払込票番号「1234567890128」" in text and "レジ" in text and "印刷" in text
    assert "8888" not in text


def test_seicomart_uses_club_station_and_daily_yamazaki_the_clerk():
    seico = "\n".join(CHAINS["seicomart"].instructions("12345678903"))
    assert "クラブステーション" in seico and "「各種支払い」" in seico and "「印刷」" in seico
    assert "店員" in "\n".join(CHAINS["daily_yamazaki"].instructions("12345678903"))


def test_every_chain_takes_cash_only_without_fee():
    for chain in CHAINS.values():
        assert "現金のみ" in chain.instructions("0")[-1] and "手数料は無料" in chain.instructions("0")[-1]


def test_new_numbers_have_the_chain_length_and_a_valid_luhn_digit():
    for chain in CHAINS.values():
        numbers = {new_number(chain) for _ in range(200)}
        assert all(len(n) == chain.digits and n.isdigit() and luhn_valid(n) for n in numbers)
        assert len(numbers) > 190  # random, not sequential
