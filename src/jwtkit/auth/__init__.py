"""The auth server's service layer: async, framework-free (STYLE.md §3, §8, §9).

``AuthService`` (in :mod:`jwtkit.auth.service`) issues and verifies tokens and sessions over the
storage ports declared in :mod:`jwtkit.auth.ports`; the HTTP layer (``jwtkit.web``) and the storage
adapters (``jwtkit.storage``) plug into it.
"""
