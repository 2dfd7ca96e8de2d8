"""The issuer's registration number (T + 13 digits, check digit first) is checked at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from backoffice.checkdigits import corporate_number_check_digit, invoice_registration_number_valid
from receipts import issuer

ROOT = Path(__file__).resolve().parents[2]


def test_the_check_digit_of_a_published_corporate_number():
    # 国税庁's own 法人番号 is 7000012050002: 9 − (2 + 5 + 2 + 1×2 = 11 mod 9 = 2) = 7.
    assert corporate_number_check_digit("000012050002") == "7"
    assert invoice_registration_number_valid("T7000012050002")


@pytest.mark.parametrize("number", [
    "T8000012050002",  # wrong check digit
    "7000012050002",  # no T
    "t7000012050002",  # lower-case t
    "T700001205000",  # 12 digits
    "T70000120500021",  # 14 digits
    "T７０００012050002",  # full-width digits
    "T-7000012050002",
    "",
])
def test_a_malformed_registration_number_is_invalid(number):
    assert not invoice_registration_number_valid(number)


def test_the_settings_name_the_issuer():
    found = issuer.check_settings()
    assert found.registration_number.startswith("T") and invoice_registration_number_valid(found.registration_number)
    assert found.name


@override_settings(INVOICE_REGISTRATION_NUMBER="T8000012050002")
def test_a_wrong_check_digit_in_the_setting_is_refused():
    with pytest.raises(ImproperlyConfigured, match="INVOICE_REGISTRATION_NUMBER"):
        issuer.check_settings()


@override_settings(INVOICE_ISSUER_NAME="  ")
def test_an_empty_issuer_name_is_refused():
    with pytest.raises(ImproperlyConfigured, match="INVOICE_ISSUER_NAME"):
        issuer.check_settings()


def test_django_does_not_start_with_a_mistyped_registration_number():
    env = {**os.environ, "INVOICE_REGISTRATION_NUMBER": "T7000012050003", "DJANGO_SETTINGS_MODULE": "backoffice.settings"}
    bad = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode != 0
    assert "INVOICE_REGISTRATION_NUMBER='T7000012050003'" in bad.stderr

    env["INVOICE_REGISTRATION_NUMBER"] = "T7000012050002"
    good = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert good.returncode == 0, good.stderr
