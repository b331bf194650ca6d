"""The Celery task of background jobs."""

from celery import shared_task

from . import services


@shared_task(name="jobs.run_job", ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_job(job_id):
    return services.run(job_id)


@shared_task(name="jobs.tidy", ignore_result=True)
def tidy():
    return services.tidy()
