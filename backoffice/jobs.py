"""Registry of periodic jobs.

Each app's ``jobs.py`` registers its periodic jobs here with a beat interval. Celery beat
runs them through ``backoffice.tasks.run_job``; ``manage.py run_periodic_jobs`` runs each once
in-process. A job is a function returning a short summary dict of what it did; it must be
idempotent and safe to run concurrently (SPEC §6).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.db import connection

from backoffice import outbox


@dataclass(frozen=True)
class Job:
    name: str
    func: Callable[[], dict]
    every_seconds: int
    description: str
    # Run after every other job by ``run_periodic_jobs`` (the outbox relay publishes what they wrote).
    runs_last: bool = False


_REGISTRY: dict[str, Job] = {}
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What one run of a job did: its summary, or the error it raised."""

    job: str
    result: dict | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def run_isolated(job: Job) -> Outcome:
    """Run ``job`` so that its failure stays its own: the exception is logged (with traceback) and
    returned as the outcome, and a database connection it left broken is dropped, so the next job
    (``run_periodic_jobs`` runs them all; a job's own transactions roll back) starts clean."""
    try:
        return Outcome(job.name, result=job.func())
    except Exception as exc:  # noqa: BLE001 - one job's failure must not stop the others
        log.exception("job %s failed", job.name)
        if not connection.in_atomic_block:  # jobs own their transactions; tests wrap them in one
            connection.close_if_unusable_or_obsolete()
        return Outcome(job.name, error=f"{type(exc).__name__}: {exc}"[:500])


def register(name: str, *, every_seconds: int, description: str, runs_last: bool = False) -> Callable:
    def decorator(func: Callable[[], dict]) -> Callable[[], dict]:
        _REGISTRY[name] = Job(name, func, every_seconds, description, runs_last)
        return func

    return decorator


def load_all() -> dict[str, Job]:
    """Import every installed app's ``jobs`` module so that it registers its jobs."""
    for config in apps.get_app_configs():
        try:
            import_module(f"{config.name}.jobs")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.jobs":
                raise
    return dict(sorted(_REGISTRY.items(), key=lambda item: (item[1].runs_last, item[0])))


def install_beat_schedule(celery_app) -> None:
    for job in load_all().values():
        celery_app.conf.beat_schedule[f"job:{job.name}"] = {
            "task": "backoffice.tasks.run_job",
            "schedule": float(job.every_seconds),
            "args": (job.name,),
            # A run still queued when the next one is due is dropped: runs never pile up behind
            # a busy or stopped worker (each run does all that is due anyway).
            "options": {"expires": float(job.every_seconds)},
        }


# --- the outbox relay (backoffice/outbox.py) ------------------------------------------------------

@register("publish_outbox", every_seconds=settings.OUTBOX_RELAY_SECONDS, description="アウトボックスのタスクを公開",
          runs_last=True)
def publish_outbox() -> dict:
    """Publish the due outbox rows to the broker (refund processing, pickup notices...)."""
    return outbox.relay()
