"""What Django's error pages (DEBUG) and error reports may show of the settings.

Django hides settings named like API, AUTH, TOKEN, KEY, SECRET, PASS or SIGNATURE. alertui's URLs
carry secrets under other names: a webhook URL's path is its token (Slack's is), and REDIS_URL
and CELERY_BROKER_URL may hold the Redis password. Settings named like URL are hidden too.
"""

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretsFilter(SafeExceptionReporterFilter):
    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|WEBHOOK", flags=re.I
    )
