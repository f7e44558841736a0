"""jwtkit in users' own apps: verify jwtkit (or any issuer's) access tokens in FastAPI,
Starlette and Flask, and replace Simple JWT in Django + DRF. Each module needs its framework,
behind its own extra::

    pip install 'jwtkit[fastapi]'    # jwtkit.integrations.fastapi.JWTBearer
    pip install 'jwtkit[starlette]'  # jwtkit.integrations.starlette.JWTAuthBackend
    pip install 'jwtkit[flask]'      # jwtkit.integrations.flask.JWTAuth, jwt_required, ...
    pip install 'jwtkit[django]'     # INSTALLED_APPS += ["jwtkit.integrations.django"]

FastAPI, Starlette and Flask share :mod:`jwtkit.integrations.bearer`: the RFC 6750 rules,
framework-free.
"""
