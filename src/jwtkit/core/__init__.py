"""The pure token core: no I/O, no environment, no globals, no import-time work.

Only the standard library, ``cryptography`` and :mod:`jwtkit.errors` are imported here.
Time is always a parameter.
"""
