import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from allauth.mfa.models import Authenticator


class Command(BaseCommand):
    help = "Print the user's MFA authenticators as JSON: [{type, unusedCodes?}] (no secrets)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.get(username=username)
        out = []
        for authenticator in Authenticator.objects.filter(user=user).order_by("type"):
            entry = {"type": authenticator.type}
            if authenticator.type == Authenticator.Type.RECOVERY_CODES:
                entry["unusedCodes"] = len(authenticator.wrap().get_unused_codes())
            out.append(entry)
        self.stdout.write(json.dumps(out))
