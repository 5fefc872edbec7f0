from django.urls import path

from alertui.maintenance import feeds, history, views

urlpatterns = [
    path("", views.window_list, name="maintenance_list"),
    path("new/", views.window_new, name="maintenance_new"),
    path("history/", history.window_history, name="maintenance_history"),
    path("calendar.ics", feeds.calendar_feed, name="maintenance_calendar"),
    path("calendar/", feeds.calendar_settings, name="maintenance_calendar_settings"),
    path(
        "calendar/<int:token_id>/revoke/", feeds.calendar_revoke, name="maintenance_calendar_revoke"
    ),
    path("<int:window_id>/calendar.ics", feeds.window_feed, name="maintenance_window_calendar"),
    path("preview/", views.schedule_preview, name="maintenance_schedule_preview"),
    path("<int:window_id>/", views.window_detail, name="maintenance_detail"),
    path("<int:window_id>/edit/", views.window_edit, name="maintenance_edit"),
    path("<int:window_id>/pause/", views.window_pause, name="maintenance_pause"),
    path("<int:window_id>/resume/", views.window_resume, name="maintenance_resume"),
    path("<int:window_id>/delete/", views.window_delete, name="maintenance_delete"),
    path("<int:window_id>/end/", views.window_end_early, name="maintenance_end_early"),
    path("<int:window_id>/skip/", views.window_skip, name="maintenance_skip"),
    path("<int:window_id>/move/", views.window_move, name="maintenance_move"),
]
