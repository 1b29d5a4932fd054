from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import include, path
from django.utils.html import escape


@login_required
def home(request):
    """The page a signed-in user lands on; tests look for `data-signed-in`."""
    return HttpResponse(
        f'<!doctype html><title>Home</title><h1 data-signed-in="{escape(request.user.username)}">Home</h1>'
    )


urlpatterns = [
    path("", home, name="home"),
    path(settings.URL_PREFIX, include("allauth.urls")),
]
