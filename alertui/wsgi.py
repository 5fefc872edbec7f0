import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alertui.settings")
application = get_wsgi_application()

# gunicorn runs no system checks: say here what would make every page fail.
from alertui.checks import log_at_start  # noqa: E402  (needs the apps loaded above)

log_at_start()
