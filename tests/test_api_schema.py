"""Schemathesis against the live API: the OpenAPI schema is fetched from a running alertui
(pytest-django's `live_server`), and every operation is called with generated requests, valid
and invalid, as a silencer's token. No answer may be a 500, and every answer must be one the
schema documents, in the documented content type and shape.

Schemathesis's own pytest plugin (`schemathesis.pytest.from_fixture`) fails under pytest 9.2
(it sets `Function._nodeid`, which pytest 9.2 no longer has), so each operation is an ordinary
test here that draws requests from `operation.as_strategy()` with Hypothesis.

The silences are made in an Alertmanager of this module's own: generated matchers can be as
broad as `job=~".+"` (which passes every rule alertui has), and in the Alertmanager the rest of
the session shares such a silence would mute the alerts other tests expect to see firing.
"""

import itertools
from datetime import timedelta

import pytest
import schemathesis
from django.core.cache import cache
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alertui.alerts.sync import sync_alerts
from alertui.api.models import ApiToken
from alertui.matchers import Matcher
from alertui.silences import services
from alertui.silences.models import Silence
from tests.servers import AlertmanagerProcess, make_alert, wait_until

pytestmark = pytest.mark.django_db(transaction=True)  # the live server's thread sees the rows

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Not run: `negative_data_rejection` and `positive_data_acceptance`. The schema describes the
# shape of a request, not alertui's rules (a silence needs a matcher that does not match the
# empty string, an end after its start and within SILENCE_MAX_DURATION, Alertmanager's regex
# syntax...), so schema-valid requests are rightly refused with 400, and a silence id that is
# not in the schema's terms "invalid" still gets 404. `use_after_free` and the other stateful
# checks need links between operations, which the schema does not declare.

MAX_EXAMPLES = 40  # per operation and mode: about 700 requests in all
CONFIG = {
    "generation": {
        "deterministic": True,
        # Every operation carries its token from the test (below): generated credentials
        # would only test the 401 that tests/test_api_auth.py covers by hand.
        "with-security-parameters": False,
    },
}


# Every operation, listed so each gets its own test; test_it_lists_every_operation keeps this
# in step with the schema.
OPERATIONS = [
    ("GET", "/api/v1/alerts/"),
    ("GET", "/api/v1/audit/"),
    ("GET", "/api/v1/targets/"),
    ("GET", "/api/v1/silences/"),
    ("POST", "/api/v1/silences/"),
    ("GET", "/api/v1/silences/{silence_id}/"),
    ("PATCH", "/api/v1/silences/{silence_id}/"),
    ("POST", "/api/v1/silences/bulk/"),
    ("POST", "/api/v1/silences/{silence_id}/extend/"),
    ("POST", "/api/v1/silences/{silence_id}/expire/"),
    ("GET", "/api/v1/silences/{silence_id}/history/"),
    ("GET", "/api/v1/maintenance/windows/"),
    ("POST", "/api/v1/maintenance/windows/"),
    ("GET", "/api/v1/maintenance/windows/{window_id}/"),
    ("PATCH", "/api/v1/maintenance/windows/{window_id}/"),
    ("DELETE", "/api/v1/maintenance/windows/{window_id}/"),
    ("GET", "/api/v1/maintenance/windows/{window_id}/occurrences/"),
    ("POST", "/api/v1/maintenance/windows/{window_id}/pause/"),
    ("POST", "/api/v1/maintenance/windows/{window_id}/resume/"),
    ("POST", "/api/v1/maintenance/windows/{window_id}/occurrences/skip/"),
    ("POST", "/api/v1/maintenance/windows/{window_id}/occurrences/move/"),
]


@pytest.fixture(scope="module")
def own_alertmanager(tmp_path_factory):
    with AlertmanagerProcess("0.25", tmp_path_factory.mktemp("am-schemathesis")) as am:
        yield am


@pytest.fixture
def api_schema(live_server, own_alertmanager, redis_db, settings, monkeypatch):
    """The schema as the running app serves it, with alertui pointing at our Alertmanager."""
    from alertui.alerts import snapshot

    monkeypatch.setattr(snapshot, "_cache", (object(), []))  # see tests/test_alerts_page.py
    settings.ALERTMANAGER_URLS = [own_alertmanager.url]
    settings.ALERTMANAGER_EXTERNAL_URL = own_alertmanager.url
    # Some alerts to list, with the text people put in labels and annotations.
    own_alertmanager.push_alerts(
        [
            make_alert({"alertname": "DiskFull", "severity": "critical", "job": "node"}),
            make_alert({"alertname": "Ünïcode", "team": "<b>db</b>"}, {"summary": "a & b"}),
        ]
    )
    wait_until(lambda: not sync_alerts().skipped, 20, "sync_alerts to get its lock")
    return schemathesis.openapi.from_url(
        f"{live_server.url}/api/v1/schema/?format=json",
        config=SchemathesisConfig.from_dict(CONFIG),
        timeout=10,
    )


@pytest.fixture
def token(silencer) -> str:
    _, token = ApiToken.objects.create(silencer, expiry=timedelta(days=1), name="schemathesis")
    return token


@pytest.fixture
def live_silence(silencer):
    """A function giving the id of an active silence, made anew once the last one expired
    (or was replaced), so edits, extensions and expiries reach Alertmanager."""
    current: list[str] = []

    def get() -> str:
        if current:
            row = Silence.objects.filter(pk=current[-1]).first()
            if row and row.current_state == "active" and not row.replaced_by:
                return row.id
        now = timezone.now()
        made = services.create_silence(
            services.Actor(silencer),
            services.SilenceValues(
                (Matcher("schemathesis", "=", "yes"),), now, now + timedelta(hours=1), "fuzzing"
            ),
        )
        current.append(made.id)
        return made.id

    return get


@pytest.fixture
def live_window(silencer):
    """A function giving the id of a window not deleted, made anew once the last one was."""
    from datetime import date, time

    from alertui.maintenance.models import Window
    from alertui.maintenance.schedule import Schedule
    from alertui.maintenance.services import WindowFields, create_window
    from alertui.silences.recorder import Actor

    current: list[int] = []

    def get() -> str:
        if current and Window.objects.filter(pk=current[-1], deleted_at=None).exists():
            return str(current[-1])
        fields = WindowFields(
            f"fuzzing {len(current)}",
            (Matcher("schemathesis", "=", "yes"),),
            "fuzzing",
            Schedule(date.today(), time(3, 0), "UTC", timedelta(hours=1), "daily"),
        )
        current.append(create_window(Actor(silencer), fields).pk)
        return str(current[-1])

    return get


def test_it_lists_every_operation(api_schema):
    operations = (result.ok() for result in api_schema.get_all_operations())
    assert {(op.method.upper(), op.path) for op in operations} == set(OPERATIONS)


# Invalid requests only for the operations that take a query or a body: the others have no
# invalid input in the schema's terms (a path id may be any string), nothing to generate.
WITHOUT_INPUT = [
    ("GET", "/api/v1/silences/{silence_id}/"),
    ("POST", "/api/v1/silences/{silence_id}/expire/"),
    ("GET", "/api/v1/silences/{silence_id}/history/"),
    ("GET", "/api/v1/maintenance/windows/"),
    ("GET", "/api/v1/maintenance/windows/{window_id}/"),
    ("DELETE", "/api/v1/maintenance/windows/{window_id}/"),
    ("POST", "/api/v1/maintenance/windows/{window_id}/pause/"),
    ("POST", "/api/v1/maintenance/windows/{window_id}/resume/"),
]
RUNS = [(m, p, GenerationMode.POSITIVE) for m, p in OPERATIONS] + [
    (m, p, GenerationMode.NEGATIVE) for m, p in OPERATIONS if (m, p) not in WITHOUT_INPUT
]


@pytest.mark.parametrize(
    ("method", "path", "mode"), RUNS, ids=[f"{m} {p} {g.value}" for m, p, g in RUNS]
)
def test_it_answers_as_the_schema_says(
    api_schema, live_server, token, live_silence, live_window, method, path, mode
):
    operation = api_schema[path][method]
    turns = itertools.count()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,  # the same requests on every run, so a CI failure can be reproduced
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def call(case):
        turn = next(turns)
        if "{silence_id}" in path and turn % 2:
            # Every other call on a real silence, or nearly all of them would be 404s.
            case.path_parameters["silence_id"] = live_silence()
        if "{window_id}" in path and turn % 2:
            case.path_parameters["window_id"] = live_window()
        if mode == GenerationMode.POSITIVE and case.query and turn % 2:
            case.query.pop("page", None)  # random page numbers are nearly all past the end
        if mode == GenerationMode.POSITIVE and method == "POST" and turn % 2:
            # Every other new silence or extension with a sane end, so that they reach
            # Alertmanager: random times are nearly always refused (ended, or too long).
            if path.endswith("/extend/"):
                case.body = {"by": "1h"}
            elif path == "/api/v1/silences/" and isinstance(case.body, dict):
                for field in ("starts_at", "ends_at"):
                    case.body.pop(field, None)
                case.body["duration"] = "1h"
        cache.clear()  # the throttle's counts: hundreds of requests a minute are the point here
        case.call_and_validate(
            base_url=live_server.url,
            headers={"Authorization": f"Token {token}"},
            checks=CHECKS,
        )

    call()
