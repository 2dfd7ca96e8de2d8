"""The Celery app. Tasks are plain interfaces that call services (HackSoft styleguide)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings")

app = Celery("backoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The worker writes its heartbeat row (backoffice.heartbeat; /healthz reports it). Named by path:
# the step imports the models, which need Django set up first.
app.steps["worker"].add("backoffice.heartbeat:Heartbeat")


@app.on_after_finalize.connect
def _schedule_periodic_jobs(sender, **kwargs):
    from backoffice import jobs

    jobs.install_beat_schedule(sender)
