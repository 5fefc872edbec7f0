from django.contrib import admin
from django.urls import include, path

from alertui import views
from alertui.accounts import views as accounts
from alertui.alerts import views as alerts
from alertui.api import tokens
from alertui.audit import views as audit
from alertui.silences import views as silences
from alertui.targets import views as targets

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),
    # Only the login and logout of django.contrib.auth.urls: alertui has no password reset (its
    # public pages would mail links to anyone who asks) and no self-service password change.
    path("accounts/login/", accounts.login, name="login"),
    path("accounts/logout/", accounts.logout, name="logout"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("alertui.api.urls")),
    path("account/tokens/", tokens.token_list, name="token_list"),
    path("account/tokens/<str:token_key>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("alerts/", alerts.alert_list, name="alert_list"),
    path("alerts/<str:fingerprint>/history/", alerts.alert_history, name="alert_history"),
    path("targets/", targets.target_list, name="target_list"),
    path("silences/", silences.silence_list, name="silence_list"),
    path("silences/new/", silences.silence_new, name="silence_new"),
    path("silences/preview/", silences.silence_preview, name="silence_preview"),
    path("silences/bulk/", include("alertui.silences.bulk.urls")),
    path("silences/templates/", include("alertui.silence_templates.urls")),
    path("silences/<str:silence_id>/", silences.silence_detail, name="silence_detail"),
    path("silences/<str:silence_id>/edit/", silences.silence_edit, name="silence_edit"),
    path("silences/<str:silence_id>/extend/", silences.silence_extend, name="silence_extend"),
    path("silences/<str:silence_id>/expire/", silences.silence_expire, name="silence_expire"),
    path("silences/<str:silence_id>/restore/", silences.silence_restore, name="silence_restore"),
    path("maintenance/", include("alertui.maintenance.urls")),
    path("policy/", include("alertui.policy.urls")),
    path("acks/", include("alertui.acks.urls")),
    path("audit/", audit.audit_list, name="audit_list"),
    path("audit/export.csv", audit.audit_csv, name="audit_csv"),
    path("audit/silence/<str:silence_id>/", audit.audit_silence, name="audit_silence"),
]
