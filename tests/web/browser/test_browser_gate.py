"""Without a browser the page's browser tests skip on a developer's machine and fail under CI (never a
silent skip in CI)."""

from __future__ import annotations

import pytest

from .conftest import _unavailable


def test_a_missing_browser_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium"):
        _unavailable("Chromium")


def test_a_missing_browser_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        _unavailable("Chromium")
