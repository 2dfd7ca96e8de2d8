"""Production settings from the environment (issue 12): DJANGO_SECURE=true turns on HSTS, the
HTTPS redirect and Secure cookies, requires SECRET_KEY and ALLOWED_HOSTS, and ``manage.py check
--deploy`` is clean. Each case starts a fresh interpreter, as a deployment would."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"DJANGO_SECURE": "true", "SECRET_KEY": secrets.token_urlsafe(50),
              "ALLOWED_HOSTS": "backoffice.example.jp,console.example.jp"}
SHOW = ("import json; from django.conf import settings as s; print(json.dumps({n: getattr(s, n, None) for n in ["
        "'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', "
        "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'ALLOWED_HOSTS', 'DEBUG', 'SECURE_PROXY_SSL_HEADER']}))")


def manage(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in {"DJANGO_SECURE", "SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "SECURE_SSL_REDIRECT"}}
    environ.update(VAR_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=120)


def _settings(tmp_path, **env) -> dict:
    done = manage(tmp_path, "shell", "-c", SHOW, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    done = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_outside_production_mode_check_deploy_names_what_production_mode_fixes(tmp_path):
    done = manage(tmp_path, "check", "--deploy")
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in done.stdout + done.stderr


def test_production_mode_turns_on_hsts_the_https_redirect_and_secure_cookies(tmp_path):
    assert _settings(tmp_path, **PRODUCTION) == {
        "SECURE_SSL_REDIRECT": True, "SECURE_HSTS_SECONDS": 31_536_000, "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True, "SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True,
        "ALLOWED_HOSTS": ["backoffice.example.jp", "console.example.jp"], "DEBUG": False,
        "SECURE_PROXY_SSL_HEADER": None,
    }


def test_each_setting_can_be_set_on_its_own(tmp_path):
    shown = _settings(tmp_path, **PRODUCTION, SECURE_HSTS_SECONDS="3600", SECURE_PROXY_SSL_HEADER="true")
    assert shown["SECURE_HSTS_SECONDS"] == 3600 and shown["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert _settings(tmp_path, SESSION_COOKIE_SECURE="true")["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("missing, error", [("SECRET_KEY", "SECRET_KEY"), ("ALLOWED_HOSTS", "ALLOWED_HOSTS")])
def test_production_mode_has_no_default_secret_key_or_hosts(tmp_path, missing, error):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    done = manage(tmp_path, "check", **env)
    assert done.returncode != 0 and "ImproperlyConfigured" in done.stderr and error in done.stderr


def test_production_mode_refuses_any_host(tmp_path):
    done = manage(tmp_path, "check", **{**PRODUCTION, "ALLOWED_HOSTS": "*"})
    assert done.returncode != 0 and "ALLOWED_HOSTS" in done.stderr


def test_outside_production_mode_the_secret_key_is_random_per_checkout(tmp_path):
    first = manage(tmp_path / "a", "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)")
    again = manage(tmp_path / "a", "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)")
    other = manage(tmp_path / "b", "shell", "-c", "from django.conf import settings; print(settings.SECRET_KEY)")
    key = first.stdout.strip().splitlines()[-1]
    assert len(key) >= 50 and key == again.stdout.strip().splitlines()[-1] != other.stdout.strip().splitlines()[-1]
    assert "dev-only-insecure" not in (ROOT / "backoffice/settings.py").read_text()
