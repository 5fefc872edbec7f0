"""Silence templates: made, changed and deleted by their owner (or an admin), refused when
hostile, and used from the new-silence form and the alerts page to make a real silence."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from alertui.integrations.alertmanager import AlertmanagerClient
from alertui.silence_templates.models import SilenceTemplate

pytestmark = pytest.mark.django_db

NODE_REBOOT = {
    "name": "Node reboot",
    "matchers": 'alertname=~"NodeDown|NodeRebooted", team="infra"',
    "duration": "30m",
    "comment": "Rebooting node <name> for kernel updates, ticket: ",
}


def create(client, **changes):
    return client.post("/silences/templates/new/", {**NODE_REBOOT, **changes})


def test_it_makes_lists_edits_and_deletes_a_template(silencer, silencer_client):
    assert create(silencer_client).status_code == 302
    template = SilenceTemplate.objects.get()
    assert template.owner == silencer
    assert template.matchers == [
        ["alertname", "=~", "NodeDown|NodeRebooted"],
        ["team", "=", "infra"],
    ]
    assert (template.duration, template.comment) == ("30m", NODE_REBOOT["comment"].strip())
    page = silencer_client.get("/silences/templates/").content.decode()
    assert "Node reboot" in page and f"/silences/templates/{template.pk}/edit/" in page

    edited = {**NODE_REBOOT, "name": "Node reboot (long)", "duration": "2h"}
    response = silencer_client.post(f"/silences/templates/{template.pk}/edit/", edited)
    assert response.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.duration) == ("Node reboot (long)", "2h")

    assert silencer_client.get(f"/silences/templates/{template.pk}/delete/").status_code == 200
    silencer_client.post(f"/silences/templates/{template.pk}/delete/")
    assert not SilenceTemplate.objects.exists()


def test_only_the_owner_or_an_admin_changes_a_template(
    client, silencer, silencer_client, admin_user, viewer
):
    create(silencer_client)
    template = SilenceTemplate.objects.get()
    bob = User.objects.create_user("bob")
    bob.groups.set(silencer.groups.all())
    client.force_login(bob)
    listed = client.get("/silences/templates/").content.decode()
    assert "Node reboot" in listed and f"/silences/templates/{template.pk}/edit/" not in listed
    assert client.get(f"/silences/templates/{template.pk}/edit/").status_code == 403
    changed = {**NODE_REBOOT, "comment": "bob was here"}
    assert client.post(f"/silences/templates/{template.pk}/edit/", changed).status_code == 403
    assert client.post(f"/silences/templates/{template.pk}/delete/").status_code == 403
    template.refresh_from_db()
    assert template.comment != "bob was here"

    client.force_login(viewer)
    assert client.get("/silences/templates/").status_code == 200
    assert create(client).status_code == 403

    client.force_login(admin_user)
    assert client.post(f"/silences/templates/{template.pk}/edit/", changed).status_code == 302
    template.refresh_from_db()
    assert template.comment == "bob was here" and template.owner == silencer


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("name", "Node\nreboot", "one line of text"),
        ("name", "", "This field is required"),
        ("name", "x" * 101, "at most 100 characters"),
        ("matchers", 'alertname=~"("', "invalid regular expression"),
        ("matchers", 'alertname=~".*"', "would mute everything"),
        ("matchers", 'foo-bar="x"', "invalid label name"),
        ("matchers", '@cluster="prod", a="b"', "a silence cannot use it"),
        ("matchers", "<script>alert(1)</script>", "cannot read"),
        ("duration", "forever", "duration"),
        ("duration", "400d", "at most"),
        ("comment", "ticket\x07", "control characters"),
    ],
)
def test_it_refuses_a_hostile_template_and_saves_nothing(silencer_client, field, value, error):
    response = create(silencer_client, **{field: value})
    assert response.status_code == 400
    assert error.lower() in response.content.decode().lower()
    assert not SilenceTemplate.objects.exists()
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_two_templates_cannot_share_a_name(silencer_client):
    create(silencer_client)
    response = create(silencer_client, name="node REBOOT")
    assert response.status_code == 400 and "exists" in response.content.decode()
    assert SilenceTemplate.objects.count() == 1


def test_it_fills_the_new_silence_form_and_makes_the_silence(am, silencer_client, tag):
    create(silencer_client, matchers=f'alertname="NodeDown", test="{tag}"')
    template = SilenceTemplate.objects.get()
    form = silencer_client.get("/silences/new/")
    assert f"/silences/new/?template={template.pk}" in form.content.decode()

    page = silencer_client.get("/silences/new/", {"template": template.pk})
    html = page.content.decode()
    assert "New silence from “Node reboot”" in html
    assert page.context["rows"] == [("alertname", "=", "NodeDown"), ("test", "=", tag)]
    assert page.context["form"].initial["duration"] == "30m"
    assert page.context["form"].initial["comment"] == NODE_REBOOT["comment"].strip()

    made = silencer_client.post(
        "/silences/new/",
        {
            "matcher_name": ["alertname", "test"],
            "matcher_op": ["=", "="],
            "matcher_value": ["NodeDown", tag],
            "duration": "30m",
            "comment": "Rebooting node db-1 for kernel updates, ticket: OPS-1",
        },
    )
    assert made.status_code == 302
    (silence,) = [
        s
        for s in AlertmanagerClient([am.url]).list_silences()
        if any(m.value == tag for m in s.matchers)
    ]
    assert silence.created_by == "alice"
    length = silence.ends_at - silence.starts_at
    assert timedelta(minutes=29) < length <= timedelta(minutes=30)


def test_a_link_keeps_its_own_duration_and_a_gone_template_says_so(silencer_client):
    create(silencer_client)
    template = SilenceTemplate.objects.get()
    page = silencer_client.get("/silences/new/", {"template": template.pk, "duration": "4h"})
    assert page.context["form"].initial["duration"] == "4h"
    for gone in (str(template.pk + 1), "9" * 40, "abc"):
        page = silencer_client.get("/silences/new/", {"template": gone})
        assert page.status_code == 200
    assert "no longer exists" in page.content.decode()


def test_the_alerts_page_links_to_the_form_with_each_template(am, silencer_client, fresh_snapshot):
    create(silencer_client)
    template = SilenceTemplate.objects.get()
    page = silencer_client.get("/alerts/").content.decode()
    assert f"/silences/new/?template={template.pk}&amp;next=%2Falerts%2F" in page
