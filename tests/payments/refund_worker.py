"""The Celery app for the worker-kill test's subprocess workers: the project's app, with the
unacked-message sweep run every second so a redelivery after ``visibility_timeout`` (lowered by
the test through ``CELERY_VISIBILITY_TIMEOUT_SECONDS``) happens within the test."""

from backoffice.celery import app

app.conf.broker_transport_options = {
    **(app.conf.broker_transport_options or {}),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

__all__ = ["app"]
