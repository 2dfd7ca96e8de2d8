"""Staff log-in security (issue 12): django-axes locks a user name and, separately, an IP after
5 wrong passwords for 15 minutes, on /staff/login/ and /admin/login/ alike; Django's password
validators are on; the demo password is not published and the demo users exist only in the demo."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from tests.staff.conftest import PASSWORD

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
LOGIN_PAGES = [("/staff/login/", "/staff/"), ("/admin/login/", "/admin/")]


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    """Hashing is not what these tests measure: a cheap hasher keeps 30 log-ins quick."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_lockout_is_five_failures_for_fifteen_minutes_by_user_and_by_ip():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]


def _login(client: Client, page: str, username: str, password: str, ip: str = "198.51.100.7"):
    return client.post(page, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.fixture
def sato(make_staff):
    user = make_staff("support_agent", "sato")
    user.is_superuser = True  # the admin site needs a superuser (or model permissions) to enter
    user.save()
    return user


@pytest.mark.parametrize("page, home", LOGIN_PAGES)
def test_thirty_wrong_passwords_lock_the_account_and_then_the_right_one_is_refused(sato, page, home):
    client = Client()
    statuses = [_login(client, page, "sato", f"wrong-{i}").status_code for i in range(30)]
    assert statuses[:4] == [200] * 4  # the form again, with its error
    assert set(statuses[4:]) == {429}  # the 5th failure locks
    locked = _login(client, page, "sato", PASSWORD)
    assert locked.status_code == 429 and "ログインが制限されています" in locked.content.decode()
    assert client.get(home).status_code == 302  # not logged in


def test_the_lock_lifts_after_the_cooloff(sato):
    client = Client()
    for i in range(5):
        _login(client, "/staff/login/", "sato", f"wrong-{i}")
    with time_machine.travel(timedelta(minutes=15, seconds=1)):
        r = _login(client, "/staff/login/", "sato", PASSWORD)
    assert r.status_code == 302 and r["Location"] == "/staff/"


def test_a_locked_user_name_is_locked_from_every_address(sato):
    for i in range(5):
        _login(Client(), "/staff/login/", "sato", f"wrong-{i}", ip=f"203.0.113.{i + 1}")
    assert _login(Client(), "/staff/login/", "sato", PASSWORD, ip="192.0.2.200").status_code == 429


def test_one_address_guessing_many_user_names_is_locked(make_staff):
    make_staff("support_agent", "tanaka")
    for i in range(5):
        _login(Client(), "/staff/login/", f"guess-{i}", "password", ip="198.51.100.66")
    assert _login(Client(), "/staff/login/", "tanaka", PASSWORD, ip="198.51.100.66").status_code == 429
    assert _login(Client(), "/staff/login/", "tanaka", PASSWORD, ip="198.51.100.67").status_code == 302


def test_a_right_password_resets_the_count(sato):
    client = Client()
    for _ in range(2):
        for i in range(4):
            assert _login(client, "/staff/login/", "sato", f"wrong-{i}").status_code == 200
        assert _login(client, "/staff/login/", "sato", PASSWORD).status_code == 302
        client.post("/staff/logout/")


@pytest.mark.parametrize("password", ["short-pw1", "password1234", "123456789012", "sato-support-agent"])
def test_django_password_validators_refuse_weak_passwords(password):
    user = User(username="sato-support-agent")
    with pytest.raises(ValidationError):
        validate_password(password, user)


def test_a_strong_password_passes_the_validators():
    validate_password("ginger-tofu-kettle-42", User(username="sato"))


def test_the_readme_publishes_no_demo_password():
    for path in ("README.md", "bin/run", "shop/management/commands/seed_demo.py"):
        assert "konbini-demo" not in (ROOT / path).read_text()


def test_seed_demo_gives_the_demo_users_a_password_of_their_own(capsys, monkeypatch):
    monkeypatch.delenv("DEMO_STAFF_PASSWORD", raising=False)
    call_command("seed_demo")
    out = capsys.readouterr().out
    password = out.split("password: ")[1].split()[0]
    assert len(password) >= 16
    assert _login(Client(), "/admin/login/", "admin", password).status_code == 302


def test_seed_demo_takes_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "ginger-tofu-kettle-42")
    call_command("seed_demo")
    assert User.objects.get(username="agent").check_password("ginger-tofu-kettle-42")


@override_settings(PRODUCTION=True)
def test_seed_demo_refuses_to_make_demo_users_in_production():
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not User.objects.filter(username="admin").exists()


@pytest.mark.parametrize("language, text", [("ja", "ログインが制限されています"), ("en", "Log-in temporarily blocked")])
def test_the_lockout_page_speaks_the_consoles_languages(sato, language, text):
    client = Client()
    client.cookies["django_language"] = language
    for i in range(5):
        r = _login(client, "/staff/login/", "sato", f"wrong-{i}")
    assert r.status_code == 429 and text in r.content.decode()
