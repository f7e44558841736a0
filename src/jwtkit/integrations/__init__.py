"""Integrations of jwtkit into users' own web applications (``jwtkit.integrations.django``, ...)."""
