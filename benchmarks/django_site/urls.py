"""Routes: /health (no auth), /sj/* (Simple JWT), /jk/* (jwtkit), /session/* (Django sessions)."""

from django.contrib.auth import authenticate, login
from django.urls import path
from rest_framework import authentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import authentication as simplejwt_authentication
from rest_framework_simplejwt import views as simplejwt_views

from jwtkit.integrations.django import authentication as jwtkit_authentication
from jwtkit.integrations.django import views as jwtkit_views


class Health(APIView):
    authentication_classes = ()
    permission_classes = ()

    def get(self, request):
        return Response({"ok": True})


class Me(APIView):
    permission_classes = (IsAuthenticated,)

    def get(self, request):
        return Response({"username": request.user.get_username()})


class SimpleJWTMe(Me):
    authentication_classes = (simplejwt_authentication.JWTAuthentication,)


class JwtkitMe(Me):
    authentication_classes = (jwtkit_authentication.JWTAuthentication,)


class SessionMe(Me):
    authentication_classes = (authentication.SessionAuthentication,)


class SessionLogin(APIView):
    authentication_classes = ()
    permission_classes = ()

    def post(self, request):
        user = authenticate(request, username=request.data["username"], password=request.data["password"])
        if user is None:
            return Response(status=401)
        login(request, user)
        return Response({})


urlpatterns = [
    path("health", Health.as_view()),
    path("sj/me", SimpleJWTMe.as_view()),
    path("sj/token", simplejwt_views.TokenObtainPairView.as_view()),
    path("sj/refresh", simplejwt_views.TokenRefreshView.as_view()),
    path("jk/me", JwtkitMe.as_view()),
    path("jk/token", jwtkit_views.TokenObtainPairView.as_view()),
    path("jk/refresh", jwtkit_views.TokenRefreshView.as_view()),
    path("session/login", SessionLogin.as_view()),
    path("session/me", SessionMe.as_view()),
]
