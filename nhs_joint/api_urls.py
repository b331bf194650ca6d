"""The REST API under /api/v1/, its OpenAPI schema and its documentation pages."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts.api import TokenView
from appointments.api import AppointmentViewSet, PersonViewSet
from organisations.api import BodyViewSet, OrganisationViewSet
from programmes.api import (
    BoardApprovalViewSet,
    ExpectationViewSet,
    MeasurementViewSet,
    MeasureViewSet,
    ProgrammeMeasureViewSet,
    ProgrammeViewSet,
    RegionalDeliveryViewSet,
    WorkstreamViewSet,
)
from regions.api import LocalSystemViewSet, RegionViewSet
from reports.api import FindingViewSet, ReportRunViewSet

router = DefaultRouter()
router.register("bodies", BodyViewSet, basename="body")
router.register("regions", RegionViewSet, basename="region")
router.register("local-systems", LocalSystemViewSet, basename="local-system")
router.register("organisations", OrganisationViewSet, basename="organisation")
router.register("programmes", ProgrammeViewSet, basename="programme")
router.register("board-approvals", BoardApprovalViewSet, basename="board-approval")
router.register("regional-deliveries", RegionalDeliveryViewSet, basename="regional-delivery")
router.register("workstreams", WorkstreamViewSet, basename="workstream")
router.register("expectations", ExpectationViewSet, basename="expectation")
router.register("measures", MeasureViewSet, basename="measure")
router.register("programme-measures", ProgrammeMeasureViewSet, basename="programme-measure")
router.register("measurements", MeasurementViewSet, basename="measurement")
router.register("people", PersonViewSet, basename="person")
router.register("appointments", AppointmentViewSet, basename="appointment")
router.register("report-runs", ReportRunViewSet, basename="report-run")
router.register("findings", FindingViewSet, basename="finding")

urlpatterns = [
    path("api/v1/auth/token/", TokenView.as_view(), name="api-token"),
    path("api/v1/", include((router.urls, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
