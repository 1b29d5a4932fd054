import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Print the user's confirmed OTP devices as JSON: {totp, backupTokens, other} (no secrets)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        user = get_user_model().objects.get(username=username)
        devices = list(devices_for_user(user))
        static = [d for d in devices if isinstance(d, StaticDevice)]
        self.stdout.write(json.dumps({
            "totp": sum(isinstance(d, TOTPDevice) for d in devices),
            "backupTokens": sum(d.token_set.count() for d in static),
            "other": sorted(type(d).__name__ for d in devices if not isinstance(d, (TOTPDevice, StaticDevice))),
        }))
