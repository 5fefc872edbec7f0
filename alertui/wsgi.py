import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alertui.settings")
application = get_wsgi_application()

# gunicorn runs no system checks: say here what would make every page fail.
from alertui.checks import log_at_start  # noqa: E402  (needs the apps loaded above)

log_at_start()

# Each worker imports its views, and loads the current alerts and the alerts page's default view,
# before it serves: its first request does not pay for them.
from django.db import connections  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from alertui.alerts.views import warm  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - imports every view module now
warm()
connections.close_all()  # this thread serves no requests: its connection would only sit open
