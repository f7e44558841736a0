"""Terminal output: colour only for a terminal without NO_COLOR, durations in one unit, safe strings."""

import io

import pytest

from jwtkit.cli.console import describe_time, human_span, palette_for, safe_json_string


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_is_on_for_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)

    assert palette_for(FakeTerminal()).enabled


def test_colour_is_off_when_no_color_is_set(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")

    assert not palette_for(FakeTerminal()).enabled


def test_an_empty_no_color_does_not_disable_colour_as_the_convention_says(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "")

    assert palette_for(FakeTerminal()).enabled


def test_colour_is_off_for_a_pipe_or_file(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)

    assert not palette_for(io.StringIO()).enabled


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (45, "45 s"), (-89, "89 s"), (250, "4 min"), (3600, "60 min"), (7200, "2 h"), (3 * 86400, "3 days")],
)
def test_a_duration_is_shown_in_one_rounded_unit(seconds, text):
    assert human_span(seconds) == text


@pytest.mark.parametrize(
    ("name", "offset", "meaning"),
    [
        ("exp", 300, "expires in 5 min"),
        ("exp", -7200, "expired 2 h ago"),
        ("nbf", 60, "not valid for another 60 s"),
        ("nbf", -60, "valid since 60 s ago"),
        ("iat", -120, "issued 2 min ago"),
        ("iat", 600, "issued 10 min in the future"),
    ],
)
def test_a_time_claim_is_described_relative_to_now(name, offset, meaning):
    assert describe_time(name, 1_800_000_000 + offset, 1_800_000_000)[1] == meaning


@pytest.mark.parametrize("value", [True, "1800000000", None, float("inf"), 1e400, 10**30])
def test_a_time_claim_that_is_not_a_usable_date_is_not_guessed_at(value):
    when, _ = describe_time("exp", value, 1_800_000_000)

    assert when in ("not a NumericDate", "out of range")


def test_safe_strings_keep_printable_unicode():
    assert safe_json_string("José ✓") == '"José ✓"'


def test_safe_strings_escape_c1_controls_and_bidi_overrides():
    assert safe_json_string("a\x9bb\u202ec\u2028") == r'"a\u009bb\u202ec\u2028"'
