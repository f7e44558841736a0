"""Storage adapters for the ports of :mod:`jwtkit.auth.ports`: :mod:`.memory` (the reference),
:mod:`.sql` (SQLite, PostgreSQL), :mod:`.redis` (the shared rate limiter and revocation feed),
and the pieces they share (:mod:`.in_process`, :mod:`.polling`, :mod:`.backstop`,
:mod:`.reader_thread`). The adapters do not know each other: choosing and combining them is the
composition root's job (:func:`jwtkit.wiring.open_stores`).
"""
