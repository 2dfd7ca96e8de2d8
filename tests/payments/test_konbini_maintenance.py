"""The maintenance calendar (seed 003: odd months' 3rd Thursday, 03:00–05:00 JST)."""

from __future__ import annotations

from payments.konbini.maintenance import current_window, next_maintenance_window, window_in_month
from tests.payments.konbini_support import jst


def test_2026_11_19_from_3_to_5_is_a_maintenance_window():
    window = window_in_month(2026, 11)
    assert (window.start, window.end) == (jst(2026, 11, 19, 3, 0), jst(2026, 11, 19, 5, 0))
    assert current_window(jst(2026, 11, 19, 3, 0)) == window
    assert current_window(jst(2026, 11, 19, 4, 59, 59)) == window


def test_the_window_is_closed_at_its_edges():
    assert current_window(jst(2026, 11, 19, 2, 59, 59)) is None
    assert current_window(jst(2026, 11, 19, 5, 0)) is None


def test_december_2026_has_no_window():
    assert window_in_month(2026, 12) is None
    assert all(current_window(jst(2026, 12, day, 4, 0)) is None for day in range(1, 32))


def test_january_2027_window_is_on_the_21st():
    window = window_in_month(2027, 1)
    assert (window.start, window.end) == (jst(2027, 1, 21, 3, 0), jst(2027, 1, 21, 5, 0))


def test_the_third_thursday_when_the_month_starts_on_a_thursday():
    assert window_in_month(2027, 7).start == jst(2027, 7, 15, 3, 0)  # 2027-07-01 is a Thursday


def test_next_window_for_the_staff_pages():
    assert next_maintenance_window(jst(2026, 11, 19, 5, 0)).start == jst(2027, 1, 21, 3, 0)
    assert next_maintenance_window(jst(2026, 12, 24, 12, 0)).start == jst(2027, 1, 21, 3, 0)
    assert next_maintenance_window(jst(2026, 11, 1, 0, 0)).start == jst(2026, 11, 19, 3, 0)
    assert next_maintenance_window(jst(2026, 11, 19, 4, 0)).start == jst(2026, 11, 19, 3, 0)  # in progress
    assert next_maintenance_window(jst(2026, 11, 19, 4, 0)).label == "2026年11月19日（木）3:00〜5:00"
