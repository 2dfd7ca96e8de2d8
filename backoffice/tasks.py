import logging

from celery import shared_task

from backoffice import jobs

log = logging.getLogger(__name__)


@shared_task(name="backoffice.tasks.run_job", ignore_result=True)
def run_job(name: str) -> dict:
    """Beat entry point: run one registered periodic job."""
    job = jobs.load_all()[name]
    result = job.func()
    # A job that found nothing to do (the message relay, every few seconds) logs at DEBUG only.
    idle = isinstance(result, dict) and not any(result.values())
    log.log(logging.DEBUG if idle else logging.INFO, "job %s: %s", name, result)
    return result
