from django.urls import path

from alertui.silence_templates import views

urlpatterns = [
    path("", views.template_list, name="silence_template_list"),
    path("new/", views.template_new, name="silence_template_new"),
    path("<int:template_id>/edit/", views.template_edit, name="silence_template_edit"),
    path("<int:template_id>/delete/", views.template_delete, name="silence_template_delete"),
]
