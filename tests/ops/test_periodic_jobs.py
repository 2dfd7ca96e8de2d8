"""Each periodic job runs isolated (issue 19 item 2): one that raises is logged and reported, every
other job still runs (the outbox relay last), and ``run_periodic_jobs`` exits non-zero only after
all of them ran, printing each one's outcome."""

from __future__ import annotations

import logging

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from backoffice import jobs, outbox
from backoffice.models import OutboxTask


def _boom() -> dict:
    raise RuntimeError("the gateway is on fire")


@pytest.fixture
def failing_job(monkeypatch):
    """A job that raises, registered first in the run order (names sort; ``aaa`` is first)."""
    jobs.load_all()
    monkeypatch.setitem(jobs._REGISTRY, "aaa_failing", jobs.Job("aaa_failing", _boom, 60, "壊れたジョブ"))
    return "aaa_failing"


@pytest.mark.django_db
def test_a_failing_job_is_reported_and_every_other_job_still_runs(failing_job, capsys, caplog):
    waiting = outbox.enqueue("payments.process_refund", 0)

    with caplog.at_level(logging.ERROR, logger="backoffice.jobs"), pytest.raises(CommandError) as raised:
        call_command("run_periodic_jobs")

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "aaa_failing: FAILED RuntimeError: the gateway is on fire  (壊れたジョブ)"
    ran = [line.split(":", 1)[0] for line in out]
    assert ran == list(jobs.load_all())  # every job printed, in order, the relay last
    assert ran[-1] == "publish_outbox"
    assert sum("FAILED" in line for line in out) == 1
    assert str(raised.value) == "1 job(s) failed: aaa_failing"
    assert OutboxTask.objects.get(pk=waiting.pk).attempts == 1  # the relay ran after it
    assert any(r.exc_info and "aaa_failing" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_a_run_where_every_job_succeeds_exits_zero(capsys):
    call_command("run_periodic_jobs")  # no CommandError: exit status 0
    assert "FAILED" not in capsys.readouterr().out


@pytest.mark.django_db
def test_run_isolated_returns_the_error_as_the_outcome():
    outcome = jobs.run_isolated(jobs.Job("x", _boom, 60, "x"))
    assert not outcome.ok and outcome.error == "RuntimeError: the gateway is on fire" and outcome.result is None
