"""User models unlike ``auth.User`` (no migrations: the test runner creates their tables), for the user lookup."""
