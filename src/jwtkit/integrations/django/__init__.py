"""jwtkit for Django and Django REST Framework: a drop-in replacement for Simple JWT.

Install ``jwtkit[django]``, then in ``settings.py``::

    INSTALLED_APPS += ["rest_framework", "jwtkit.integrations.django"]
    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["jwtkit.integrations.django.authentication.JWTAuthentication"],
    }

and route ``jwtkit.integrations.django.views.TokenObtainPairView`` (and friends) where Simple JWT's
views were. ``SIMPLE_JWT`` is read with Simple JWT's names and defaults; a ``JWTKIT`` dict overrides
it and holds jwtkit's additions (see :mod:`jwtkit.integrations.django.conf`).

Every token operation goes through jwtkit's core (``Key``, ``KeySet``, ``encode``, ``Verifier``);
Django brings the ORM, the users and the password hashing.
"""
