from django.urls import path

from alertui.acks import views

urlpatterns = [
    path("new/", views.acknowledge, name="ack_create"),
    path("<str:silence_id>/end/", views.end, name="ack_end"),
]
