from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from alertui.accounts.roles import SILENCERS, VIEWERS, ensure_roles


class Command(BaseCommand):
    help = "Create or update a login with a role (viewer, silencer or admin)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", choices=["viewer", "silencer", "admin"], default="viewer")

    def handle(self, username, password, role, **options):
        ensure_roles()
        user, created = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.is_staff = user.is_superuser = role == "admin"
        user.save()
        user.groups.set(Group.objects.filter(name=SILENCERS if role == "silencer" else VIEWERS))
        self.stdout.write(f"{'Created' if created else 'Updated'} {username} ({role})")
