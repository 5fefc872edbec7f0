"""Clusters from a YAML file (CLUSTERS_FILE) or, without one, from ALERTMANAGER_URL and
PROMETHEUS_URL as one cluster: what a start reads, and what a bad file stops it with.

Each case starts a fresh Python, as `manage.py` and the WSGI server do (tests/test_settings.py).
"""

import json
import textwrap

import pytest

from tests.test_settings import GOOD_KEY, SETUP, refusal, start

SHOW_CLUSTERS = SETUP + textwrap.dedent(
    """
    import json
    from alertui import clusters
    print(json.dumps([
        {"name": c.name, "alertmanagers": c.alertmanager_urls, "prometheus": c.prometheus_urls,
         "link": c.link,
         "auth": {u: [getattr(k, "basic_auth", None) and k.basic_auth.password,
                      getattr(k, "bearer_token", ""),
                      getattr(getattr(k, "tls", None), "ca_file", "")]
                  for u, k in {**c.alertmanagers, **c.prometheus}.items()}}
        for c in clusters.configured()
    ]))
    """
)


def shown(env: dict[str, str]) -> list[dict]:
    result = start({"SECRET_KEY": GOOD_KEY, **env}, SHOW_CLUSTERS)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def clusters_file(tmp_path, text: str) -> str:
    path = tmp_path / "clusters.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_it_reads_several_clusters_with_secrets_from_files(tmp_path):
    (tmp_path / "am-password").write_text("am-secret\n")
    (tmp_path / "prom-token").write_text("prom-token\n")
    (tmp_path / "ca.pem").write_text("not parsed at start")
    path = clusters_file(
        tmp_path,
        f"""
        clusters:
          - name: prod-eu
            alertmanagers:
              - http://am-0.prod:9093
              - url: https://am-1.prod:9093/
                basic_auth: {{username: alertui, password_file: {tmp_path}/am-password}}
                tls_config: {{ca_file: {tmp_path}/ca.pem}}
            prometheus:
              - url: http://prometheus.prod:9090
                authorization: {{credentials_file: {tmp_path}/prom-token}}
            link: https://alertmanager.prod.example.com
          - name: staging
            alertmanagers: [http://am.staging:9093]
        """,
    )

    found = shown({"CLUSTERS_FILE": path})

    assert [c["name"] for c in found] == ["prod-eu", "staging"]
    prod, staging = found
    assert prod["alertmanagers"] == ["http://am-0.prod:9093", "https://am-1.prod:9093"]
    assert prod["prometheus"] == ["http://prometheus.prod:9090"]
    assert prod["link"] == "https://alertmanager.prod.example.com"
    assert prod["auth"]["https://am-1.prod:9093"] == ["am-secret", "", f"{tmp_path}/ca.pem"]
    assert prod["auth"]["http://prometheus.prod:9090"] == [None, "prom-token", ""]
    assert staging == {
        "name": "staging",
        "alertmanagers": ["http://am.staging:9093"],
        "prometheus": [],
        "link": "http://am.staging:9093",
        "auth": {"http://am.staging:9093": [None, "", ""]},
    }


def test_without_a_file_the_environment_is_one_cluster_named_by_cluster_name():
    env = {"ALERTMANAGER_URL": "http://am-0:9093,http://am-1:9093", "PROMETHEUS_URL": ""}

    [default] = shown(env)
    [named] = shown({**env, "CLUSTER_NAME": "prod-us"})

    assert default["name"] == "default"
    assert default["alertmanagers"] == ["http://am-0:9093", "http://am-1:9093"]
    assert named["name"] == "prod-us"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("clusters: [", "not valid YAML at line"),
        ("- name: prod", "the file holds one key, clusters: a list"),
        ("clusters: []", "clusters must list at least one cluster"),
        (
            "clusters:\n- name: prod eu\n  alertmanagers: [http://am:9093]",
            "clusters[0]: key name: 'prod eu' is not a cluster name",
        ),
        ("clusters:\n- alertmanagers: [http://am:9093]", "clusters[0]: key name: None is not"),
        (
            "clusters:\n- name: prod\n  alertmanager: [http://am:9093]",
            "cluster 'prod': unknown key alertmanager (a cluster has alertmanagers, link, name,",
        ),
        ("clusters:\n- name: prod", "cluster 'prod': key alertmanagers: list at least one peer"),
        (
            "clusters:\n- name: prod\n  alertmanagers: [http://a:9093]\n"
            "- name: staging\n  alertmanagers: [ftp://b]",
            "cluster 'staging': key alertmanagers[0]: 'ftp://b' is not an http(s) URL",
        ),
        (
            "clusters:\n- name: prod\n  alertmanagers: [http://a:9093]\n"
            "  prometheus:\n  - url: http://p:9090\n    basic_auth: {username: u, password: pw}",
            "cluster 'prod': key prometheus[0].basic_auth.password: secrets are read from files"
            " here: give password_file",
        ),
        (
            "clusters:\n- name: prod\n  alertmanagers: [http://u:pw@a:9093]",
            "cluster 'prod': key alertmanagers[0].url: credentials go in basic_auth",
        ),
        (
            "clusters:\n- name: prod\n  alertmanagers:\n  - url: http://a:9093\n"
            "    basic_auth: {username: u, password_file: /nonexistent}",
            "cluster 'prod': key alertmanagers[0]: cannot read '/nonexistent'",
        ),
        (
            "clusters:\n- name: prod\n  alertmanagers:\n  - url: http://a:9093\n    timeout: 3",
            "cluster 'prod': key alertmanagers[0]: unknown keys: timeout",
        ),
        (
            "clusters:\n- name: prod\n  alertmanagers: [http://a:9093]\n"
            "- name: prod\n  alertmanagers: [http://b:9093]",
            "cluster 'prod': key name: two clusters have this name",
        ),
        (
            "clusters:\n- name: prod\n  alertmanagers: [http://a:9093]\n"
            "  link: https://u:pw@am.example.com",
            "cluster 'prod': key link: an http(s) URL without credentials, not 'https://***@",
        ),
        (
            # An unencoded / in a password ends the host part early: the rest would be shown.
            "clusters:\n- name: prod\n  alertmanagers: [http://a:9093]\n"
            "  link: https://u:p/w@am.example.com",
            "cluster 'prod': key link: an http(s) URL without credentials, not '(hidden)'",
        ),
        (
            "clusters:\n- name: prod\n  alertmanagers: [http://to/kpw@a:9093]",
            "cluster 'prod': key alertmanagers[0]: a URL carries credentials that end its host",
        ),
    ],
)
def test_a_bad_file_stops_the_start_naming_the_cluster_and_the_key(tmp_path, text, says):
    path = clusters_file(tmp_path, text)

    message = refusal({"SECRET_KEY": GOOD_KEY, "CLUSTERS_FILE": path})

    assert message.startswith("django.core.exceptions.ImproperlyConfigured: CLUSTERS_FILE")
    assert says in message
    assert "pw" not in message.replace("password", "")


def test_a_missing_file_or_a_second_way_of_giving_servers_stops_the_start(tmp_path):
    path = clusters_file(tmp_path, "clusters:\n- name: prod\n  alertmanagers: [http://a:9093]")

    missing = refusal({"SECRET_KEY": GOOD_KEY, "CLUSTERS_FILE": "/nonexistent.yaml"})
    both = refusal(
        {"SECRET_KEY": GOOD_KEY, "CLUSTERS_FILE": path, "ALERTMANAGER_URL": "http://b:9093"}
    )
    bad_name = refusal({"SECRET_KEY": GOOD_KEY, "CLUSTER_NAME": 'prod"'})

    assert "CLUSTERS_FILE /nonexistent.yaml: cannot read it" in missing
    assert "CLUSTERS_FILE and ALERTMANAGER_URL: give the servers in the file, not both" in both
    assert "CLUSTER_NAME: 'prod\"' is not a cluster name" in bad_name


def test_beat_queues_one_sync_per_kind_and_cluster_of_the_file(tmp_path):
    path = clusters_file(
        tmp_path,
        """
        clusters:
          - name: prod
            alertmanagers: [http://am.prod:9093]
          - name: staging
            alertmanagers: [http://am.staging:9093]
        """,
    )
    code = SETUP + (
        "\nimport json\nfrom django.conf import settings as s\n"
        "print(json.dumps({k: v.get('args') for k, v in s.CELERY_BEAT_SCHEDULE.items()"
        " if k.startswith('sync-')}))"
    )

    result = start({"SECRET_KEY": GOOD_KEY, "CLUSTERS_FILE": path}, code)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        f"sync-{kind}-{cluster}": [kind, cluster]
        for cluster in ("prod", "staging")
        for kind in ("silences", "alerts", "targets", "acknowledgements")
    }
