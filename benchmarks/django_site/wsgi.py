"""The Django site `bench_django.py` serves under gunicorn (WSGI): one project, Simple JWT and jwtkit side by side."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_site.settings")
application = get_wsgi_application()
