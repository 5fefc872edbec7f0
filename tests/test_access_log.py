"""The web server's access log (gunicorn with docker/gunicorn.conf.py, the real one) keeps no
query strings: a calendar feed's address carries its token as `?token=...`, and logs are read
by more people than those who may read the calendar.
"""

import os

import requests

from tests.servers import HTTP_TIMEOUT
from tests.test_database_failover import WebProcess

SECRET = "Zm9vYmFyLWNhbGVuZGFyLXRva2Vu"


def test_the_access_log_names_the_path_but_not_the_query(tmp_path):
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")}
    env.update(
        SECRET_KEY="k" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SETTINGS_MODULE="alertui.settings",
        SQLITE_PATH=str(tmp_path / "db.sqlite3"),
    )
    with WebProcess(tmp_path, env) as web:
        # /healthz touches no database; any query string would be logged the same way.
        answer = requests.get(
            f"{web.url}/healthz",
            params={"token": SECRET},
            headers={"Referer": f"{web.url}/maintenance/calendar.ics?token={SECRET}"},
            timeout=HTTP_TIMEOUT,
        )
        assert answer.status_code == 200
    log = (tmp_path / "gunicorn.log").read_text()

    assert '"GET /healthz HTTP/1.1" 200' in log  # the request is logged...
    assert SECRET not in log  # ...without its query string or referrer
