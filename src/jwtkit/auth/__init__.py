"""The auth server's service layer: async, framework-free, over the storage ports it declares.

``AuthService`` (in :mod:`jwtkit.auth.service`) issues and verifies tokens and sessions over the
storage ports declared in :mod:`jwtkit.auth.ports`; the HTTP layer (``jwtkit.web``) and the storage
adapters (``jwtkit.storage``) plug into it.
"""
