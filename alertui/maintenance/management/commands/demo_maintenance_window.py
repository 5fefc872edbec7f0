"""The demo's recurring window (scripts/demo.sh): made once, left alone afterwards."""

from datetime import time, timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from alertui.maintenance.models import Window
from alertui.maintenance.schedule import Schedule
from alertui.maintenance.services import WindowFields, create_window
from alertui.matchers import Matcher
from alertui.silences.recorder import Actor

NAME = "Sunday disk cleanup"


class Command(BaseCommand):
    help = "Create the demo's weekly maintenance window (Sundays 02:00-04:00 Europe/Berlin)."

    def add_arguments(self, parser):
        parser.add_argument("owner", help="Username of the window's owner.")

    def handle(self, *args, owner, **options):
        if Window.objects.filter(name=NAME, deleted_at=None).exists():
            return
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"no user named {owner!r}")
        fields = WindowFields(
            NAME,
            (Matcher("alertname", "=", "DiskWillFillIn4Hours"), Matcher("namespace", "=", "prod")),
            "Weekly log rotation and disk cleanup on prod; the disk alerts are expected. OPS-1234",
            Schedule(
                timezone.now().date(),
                time(2, 0),
                "Europe/Berlin",
                timedelta(hours=2),
                "weekly",
                weekdays=(6,),
            ),
        )
        create_window(Actor(user), fields)
        self.stdout.write(f"Created maintenance window {NAME!r}")
