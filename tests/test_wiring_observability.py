"""The observability settings: ``metrics`` and ``log_format`` from flags and ``JWTKIT_*`` variables,
what ``build_app`` makes of them, and the missing ``metrics`` extra named like the others."""

from __future__ import annotations

import pytest

from jwtkit.cli.extras import missing_extra_message
from jwtkit.wiring import ServerSettings, build_app, variable_names


def routes(app) -> set[str]:
    return {getattr(route, "path", "") for route in app.routes}


def test_metrics_and_log_format_are_off_and_text_by_default():
    settings = ServerSettings()
    assert settings.metrics is False
    assert settings.log_format == "text"
    assert {"JWTKIT_METRICS", "JWTKIT_LOG_FORMAT"} <= set(variable_names())


def test_they_read_from_the_environment_and_write_back():
    settings = ServerSettings.from_env({"JWTKIT_METRICS": "1", "JWTKIT_LOG_FORMAT": "json"})
    assert settings.metrics is True
    assert settings.log_format == "json"
    assert ServerSettings.from_env(settings.to_env()) == settings  # what the workers rebuild


def test_build_app_serves_metrics_only_when_asked():
    assert "/metrics" not in routes(build_app(ServerSettings(database_url="memory://")))
    assert "/metrics" in routes(build_app(ServerSettings(database_url="memory://", metrics=True)))
    assert "/health/ready" in build_app(ServerSettings(database_url="memory://")).openapi()["paths"]


def test_a_missing_prometheus_client_names_the_metrics_extra():
    advice = missing_extra_message(ModuleNotFoundError("no", name="prometheus_client"))
    assert advice is not None
    assert "pip install 'jwtkit[metrics]'" in advice


@pytest.mark.parametrize("flags", [["--metrics"], ["--log-format", "json"]])
def test_serve_takes_the_flags(flags):
    import argparse

    from jwtkit.cli import serve

    parser = argparse.ArgumentParser()
    serve.register(parser.add_subparsers())
    args = parser.parse_args(["serve", *flags])
    assert args.metrics is True or args.log_format == "json"
