"""The Celery app of the fault suite's subprocess workers: the project's app, with the Redis
transport's unacked-message sweep run every second, so a redelivery after ``visibility_timeout``
(lowered through ``CELERY_VISIBILITY_TIMEOUT_SECONDS``) happens within the test. RabbitMQ needs
nothing: it requeues a dead connection's unacknowledged messages itself."""

from backoffice.celery import app

if app.conf.broker_url.startswith("redis"):
    app.conf.broker_transport_options = {
        **(app.conf.broker_transport_options or {}),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }

__all__ = ["app"]
