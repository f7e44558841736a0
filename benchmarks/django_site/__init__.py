"""The Django site `bench_django.py` serves: one project, Simple JWT and jwtkit side by side."""
