from django.urls import path

from alertui.silences.bulk import views

urlpatterns = [
    path("", views.bulk_confirm, name="silence_bulk"),
    path("run/", views.bulk_run, name="silence_bulk_run"),
    path("<str:key>/", views.bulk_result, name="silence_bulk_result"),
]
