import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a user who signs in with USERNAME and the password read from stdin."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        password = sys.stdin.readline().rstrip("\n")
        get_user_model().objects.create_user(username=username, password=password)
