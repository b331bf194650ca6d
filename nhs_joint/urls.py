from django.contrib import admin
from django.urls import include, path

from . import generic, suggest, views

admin.site.site_header = "NHS Joint Working Portal administration"
admin.site.site_title = "NHS Joint Working Portal"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("status/", views.service_status, name="service-status"),
    path("glossary/", views.glossary, name="glossary"),
    path("suggest/<str:model>/", suggest.suggestions, name="suggestions"),
    path("admin/", admin.site.urls),
    path("", include("accounts.urls")),
    path("", include("programmes.urls")),
    path("", include("measures.urls")),
    path("", include("asks.urls")),
    path("", include("appointments.urls")),
    path("", include("organisations.urls")),
    path("", include("regions.urls")),
    path("", include("dashboards.urls")),
    path("", include("reports.urls")),
    path("", include("jobs.urls")),
    path("", include("notifications.urls")),
    path("", include("collaboration.urls")),
    path("", include("search.urls")),
]
# The API: imported after the apps' pages (some register their API routes as their URLs load), tried first.
urlpatterns.insert(4, path("api/", include("nhs_joint.api_urls")))

handler400 = generic.bad_request
handler403 = generic.forbidden
handler404 = generic.not_found
handler500 = generic.server_error
