import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from casemanager.env import Env

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "cases.example.com",
    "DATABASE_URL": "postgres://cm:pw@db:5432/cm",
    "REDIS_URL": "redis://redis:6379/0",
    "AUDIT_KEY": secrets.token_urlsafe(32),
    "CREDENTIALS_KEY": Fernet.generate_key().decode(),
}


def run_manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in {*PRODUCTION, "DEBUG"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("reader", "value", "message"),
    [
        (lambda e: e.boolean("X", default=False), "maybe", "not a boolean"),
        (lambda e: e.integer("X", 1), "ten", "not an integer"),
        (lambda e: e.integer("X", 1, minimum=1), "0", "at least 1"),
        (lambda e: e.url("X", schemes={"redis"}), "http://x", "scheme redis"),
        (lambda e: e.choice("X", "a", {"a", "b"}), "c", "one of a, b"),
        (lambda e: e.timezone("X", "UTC"), "Mars/Olympus", "IANA"),
        (lambda e: e.rate("X", "1/min"), "abc", "rate"),
    ],
)
def test_bad_values_fail_loudly_naming_the_variable(reader, value, message):
    with pytest.raises(ImproperlyConfigured, match=message) as error:
        reader(Env({"X": value}))
    assert "X" in str(error.value)


def test_empty_means_unset():
    assert Env({"X": "  "}).boolean("X", default=True) is True
    assert Env({"X": "a, b,,c"}).strings("X", []) == ["a", "b", "c"]


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "AUDIT_KEY", "CREDENTIALS_KEY"]
)
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set" in result.stderr


def test_development_key_is_refused_for_a_public_host():
    result = run_manage("check", env={"ALLOWED_HOSTS": "cases.example.com"})
    assert result.returncode != 0
    assert "public host while DEBUG is on" in result.stderr


def test_production_settings_pass_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_pages_carry_the_security_headers():
    # An unknown address needs neither database nor collected static files, and the
    # middleware gives it the headers every response gets.
    script = (
        "from django.test import Client; import json;"
        "r = Client().get('/api/nothing-here', secure=True, headers={'host': 'cases.example.com'});"
        "h = {k: r[k] for k in ('Strict-Transport-Security', 'Content-Security-Policy', 'X-Frame-Options',"
        " 'Referrer-Policy', 'X-Content-Type-Options') if r.has_header(k)};"
        "print(json.dumps({'status': r.status_code, 'headers': h}))"
    )
    result = run_manage("shell", "-c", script, env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    headers = seen["headers"]
    assert seen["status"] == 404
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_production_counts_rates_in_redis_shared_by_every_worker():
    """API rates and sign-in counts live in the cache: in one worker's memory, N workers would allow N times as much.

    (Only while Redis is unreachable does the cache count in each process; see casemanager/cache.py.)
    """
    script = (
        "from django.conf import settings; from rest_framework.throttling import SimpleRateThrottle; "
        "from django.core.cache import cache; "
        "print(settings.CACHES['default']['BACKEND'], settings.CACHES['default']['LOCATION'], "
        "SimpleRateThrottle.cache is cache)"
    )
    result = run_manage("shell", "--no-imports", "-c", script, env=PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["casemanager.cache.ResilientRedisCache", PRODUCTION["REDIS_URL"], "True"]
