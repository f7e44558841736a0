"""The project's own views: what a Simple JWT user protects."""

from django.http import HttpRequest, JsonResponse
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class MeView(APIView):
    permission_classes = (IsAuthenticated,)

    def get(self, request: Request) -> Response:
        return Response({"username": request.user.get_username()})


class HealthView(APIView):
    permission_classes = ()
    authentication_classes = ()

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


def plain_me(request: HttpRequest) -> JsonResponse:
    """A plain Django view: the middleware sets ``request.user`` from the bearer token."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "not authenticated"}, status=401)
    return JsonResponse({"username": request.user.get_username()})
