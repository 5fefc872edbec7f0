from django.contrib.auth.decorators import login_not_required as api
from django.urls import path

from alertui.maintenance import api as views

# As in alertui.api.urls: the API answers 401/403 itself, never the login redirect.
urlpatterns = [
    path("windows/", api(views.window_list), name="api_windows"),
    path("windows/<str:window_id>/", api(views.window_detail), name="api_window"),
    path(
        "windows/<str:window_id>/occurrences/",
        api(views.window_occurrences),
        name="api_window_occurrences",
    ),
    path(
        "windows/<str:window_id>/occurrences/skip/",
        api(views.occurrence_skip),
        name="api_occurrence_skip",
    ),
    path(
        "windows/<str:window_id>/occurrences/move/",
        api(views.occurrence_move),
        name="api_occurrence_move",
    ),
    path("windows/<str:window_id>/pause/", api(views.window_pause), name="api_window_pause"),
    path("windows/<str:window_id>/resume/", api(views.window_resume), name="api_window_resume"),
]
