"""``python -m jwtkit``: the same as the ``jwtkit`` command."""

from jwtkit.cli import main

raise SystemExit(main())
