"""Values the tests share, defined once."""

#: The password every test user registers with (long enough for the default policy).
PASSWORD = "correct horse battery"

#: A fixed "now" (2027-01-15) for the token core's claim checks: tokens get ``exp``/``iat`` around it.
NOW = 1_800_000_000
