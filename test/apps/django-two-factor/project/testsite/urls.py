from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import include, path
from django.utils.html import escape
from two_factor.urls import urlpatterns as tf_urls


@login_required
def home(request):
    """The page a signed-in user lands on; tests look for `data-signed-in` (and `data-verified`: signed in with a second factor)."""
    verified = "true" if request.user.is_verified() else "false"
    return HttpResponse(
        '<!doctype html><title>Home</title>'
        f'<h1 data-signed-in="{escape(request.user.username)}" data-verified="{verified}">Home</h1>'
    )


urlpatterns = [
    path("", home, name="home"),
    path(settings.URL_PREFIX, include(tf_urls)),
]
