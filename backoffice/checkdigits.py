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
