from django.contrib.auth.decorators import login_not_required as api
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from alertui.api import views
from alertui.silences.bulk import api as bulk_api

# Each view is wrapped in `api` (login_not_required): the API authenticates by itself (token or
# session) and answers 401/403 in JSON, so the site-wide login redirect must not apply.
urlpatterns = [
    path("schema/", api(SpectacularAPIView.as_view()), name="api_schema"),
    path("silences/", api(views.SilenceList.as_view()), name="api_silences"),
    path("silences/bulk/", api(bulk_api.silence_bulk), name="api_silence_bulk"),
    path("silences/<str:silence_id>/", api(views.silence_detail), name="api_silence"),
    path("silences/<str:silence_id>/extend/", api(views.silence_extend), name="api_silence_extend"),
    path("silences/<str:silence_id>/expire/", api(views.silence_expire), name="api_silence_expire"),
    path(
        "silences/<str:silence_id>/history/",
        api(views.SilenceHistory.as_view()),
        name="api_silence_history",
    ),
    path("alerts/", api(views.AlertList.as_view()), name="api_alerts"),
    path("targets/", api(views.FailingTargetList.as_view()), name="api_targets"),
    path("audit/", api(views.AuditList.as_view()), name="api_audit"),
    path("maintenance/", include("alertui.maintenance.api_urls")),
]
