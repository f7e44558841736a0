"""The auth server's HTTP layer (FastAPI): app factory, schemas, routes, one error→status table.

``create_app(service_factory)`` builds the app; :mod:`jwtkit.wiring` builds the service from
settings and storage. This package never imports storage.
"""

from jwtkit.web.app import create_app

__all__ = ["create_app"]
