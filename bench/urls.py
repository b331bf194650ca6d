"""The portal's addresses plus /bench/ok, the bare Django view every result is compared with."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import include, path


@login_not_required
def ok(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ok", ok), path("", include("nhs_joint.urls"))]

handler403 = "nhs_joint.generic.forbidden"
handler404 = "nhs_joint.generic.not_found"
handler500 = "nhs_joint.generic.server_error"
