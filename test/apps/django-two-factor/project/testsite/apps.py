from django.apps import AppConfig


class TestsiteConfig(AppConfig):
    name = "testsite"
