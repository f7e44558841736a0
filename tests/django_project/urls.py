"""``urls.py`` as on Simple JWT's getting-started page, with jwtkit's views; Simple JWT's own under
``/simplejwt/`` (for the interop tests), and ``/simplejwt-me/`` protected by Simple JWT's class."""

from django.contrib import admin
from django.urls import path
from rest_framework_simplejwt import authentication as simplejwt_authentication
from rest_framework_simplejwt import views as simplejwt_views

from jwtkit.integrations.django import authentication
from jwtkit.integrations.django.views import (
    JWKSView,
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
    TokenVerifyView,
)

from .views import HealthView, MeView, plain_me


class SimpleJWTMeView(MeView):
    authentication_classes = (simplejwt_authentication.JWTAuthentication,)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/token/", TokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("api/token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("api/token/verify/", TokenVerifyView.as_view(), name="token_verify"),
    path("api/token/blacklist/", TokenBlacklistView.as_view(), name="token_blacklist"),
    path(".well-known/jwks.json", JWKSView.as_view(), name="jwks"),
    path("api/me/", MeView.as_view()),
    path("api/health/", HealthView.as_view()),
    path("plain/me/", plain_me),
    path("simplejwt/token/", simplejwt_views.TokenObtainPairView.as_view()),
    path("simplejwt/token/refresh/", simplejwt_views.TokenRefreshView.as_view()),
    path("simplejwt/token/verify/", simplejwt_views.TokenVerifyView.as_view()),
    path("simplejwt-me/", SimpleJWTMeView.as_view()),
]


class StatelessMeView(MeView):
    authentication_classes = (authentication.JWTStatelessUserAuthentication,)


urlpatterns.append(path("api/stateless-me/", StatelessMeView.as_view()))
