"""The project's URLs plus a trivial JSON endpoint, the benchmark's yardstick for what an
API request costs before any work of its own: it authenticates and is throttled like every
endpoint of the API, then answers a constant (served only by the benchmark's settings, `bench.settings`)."""

from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class Ping(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"pong": True})


urlpatterns = [
    path("bench/ping/", Ping.as_view()),
    path("", include("wemoov.urls")),
]
