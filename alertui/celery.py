import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alertui.settings")

app = Celery("alertui")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
