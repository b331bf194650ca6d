"""A job's page (its progress, then its outcome) and its file: both for the person who started it only."""

from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path

from .models import Job
from .services import read_chunks


def _own_job(request, pk):
    # Someone else's job is answered as if it did not exist: its title could say what they were working on.
    job = Job.objects.filter(pk=pk, owner=request.user).first()
    if job is None:
        raise Http404("No such job.")
    return job


def job_detail(request, pk):
    job = _own_job(request, pk)
    return render(
        request,
        "jobs/job_detail.jinja",
        {
            "page_title": str(job),
            "job": job,
            "breadcrumbs": [{"text": "Home", "href": "/"}],
        },
    )


def job_download(request, pk):
    job = _own_job(request, pk)
    if not job.has_file:
        raise Http404("This job has no file to download.")
    response = StreamingHttpResponse(read_chunks(job, "output"), content_type=job.content_type)
    response["Content-Disposition"] = f'attachment; filename="{job.filename}"'
    response["Content-Length"] = str(job.size)
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path("jobs/<int:pk>/", job_detail, name="job-detail"),
    path("jobs/<int:pk>/download/", job_download, name="job-download"),
]
