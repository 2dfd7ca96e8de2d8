"""Check digits of the numbers people type."""

from __future__ import annotations


def luhn_check_digit(payload: str) -> str:
    """Luhn digit to append to ``payload`` (SPEC §3 decision: konbini payment numbers)."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return len(number) >= 2 and number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


# Yamato/Sagawa 伝票番号 (SPEC §2, seed 003) — also the pickup お問い合わせ番号 (seed 001: 12桁):
# 11 digits and a 7DR check digit.
TRACKING_NUMBER_DIGITS = 12


def seven_dr_valid(tracking_number: str) -> bool:
    """A 伝票番号: ``TRACKING_NUMBER_DIGITS`` digits, the last = the others mod 7."""
    return (
        len(tracking_number) == TRACKING_NUMBER_DIGITS
        and tracking_number.isdigit()
        and int(tracking_number[:-1]) % 7 == int(tracking_number[-1])
    )


def seven_dr_number(first_eleven: str) -> str:
    return first_eleven + str(int(first_eleven) % 7)


# 適格請求書発行事業者登録番号 (the invoice registration number): "T" + 13 digits, the 13 digits
# being the 法人番号 (or a number of the same form for a sole proprietor) whose first digit checks
# the other twelve (国税庁, 法人番号の指定: 9 − (Σ Pn × Qn mod 9), Pn the n-th digit from the right
# of the twelve, Qn = 1 for odd n and 2 for even n).
INVOICE_REGISTRATION_PREFIX = "T"
CORPORATE_NUMBER_DIGITS = 13


def corporate_number_check_digit(base12: str) -> str:
    total = sum(int(ch) * (1 if n % 2 else 2) for n, ch in enumerate(reversed(base12), start=1))
    return str(9 - total % 9)


def invoice_registration_number_valid(number: str) -> bool:
    """``T`` + 13 ASCII digits whose first digit is the check digit of the other twelve."""
    digits = number[len(INVOICE_REGISTRATION_PREFIX):]
    return (
        number.startswith(INVOICE_REGISTRATION_PREFIX)
        and len(digits) == CORPORATE_NUMBER_DIGITS
        and digits.isascii() and digits.isdigit()
        and corporate_number_check_digit(digits[1:]) == digits[0]
    )
