"""The search's Celery task: every document written again (after bulk writes the signals do not see)."""

from celery import shared_task


@shared_task(name="search.rebuild")
def rebuild_search():
    from .documents import rebuild

    return rebuild()
