from django.urls import path

from alertui.policy import web

urlpatterns = [
    path("preview/", web.policy_preview, name="policy_preview"),
]
