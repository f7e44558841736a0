"""``SigningKeys``: the signing-key use case — load the ring (creating the first key), rotate,
retire a leaked key, publish the JWKS, and verify a token's signature with the ring's one
prebuilt ``Verifier``. The ring itself (:class:`~.keyring.KeyRing`) is an immutable snapshot,
swapped whole when the stored keys change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from jwtkit.core.keys import Key
from jwtkit.core.tokens import Verifier
from jwtkit.errors import AlgorithmNotAllowedError, InvalidClaimError, JWTError, KeyNotFoundError

from .background import BackgroundTasks
from .errors import InvalidTokenError
from .keyring import KeyCipher, KeyRing, new_signing_key
from .models import RetiredKey, SigningKeyRecord
from .ports import KeyStore
from .publishing import FeedPublisher
from .settings import AuthSettings

__all__ = ["SigningKeys"]

log = logging.getLogger(__name__)


class SigningKeys:
    """The key ring of this process, kept in step with the key store."""

    def __init__(self, settings: AuthSettings, keys: KeyStore, publisher: FeedPublisher, tasks: BackgroundTasks,
                 clock: Callable[[], float]) -> None:
        self._settings = settings
        self._keys = keys
        self._publisher = publisher
        self._tasks = tasks
        self._clock = clock
        self._cipher = KeyCipher(settings.key_encryption_secret)
        self._ring: KeyRing | None = None  # set by load(); swapped whole on rotation
        self._ring_records: list[SigningKeyRecord] | None = None  # what self._ring was built from

    @property
    def ring(self) -> KeyRing:
        """The current ring (after :meth:`load`)."""
        assert self._ring is not None, "SigningKeys.load() has run"
        return self._ring

    @property
    def active(self) -> Key:
        """The key that signs new tokens."""
        return self.ring.active

    @property
    def refresh_signer(self) -> Key:
        """The key that signs new refresh tokens (HS256, derived from :attr:`active`)."""
        return self.ring.refresh_signer

    def verify(self, token: object, token_type: str | None) -> dict[str, Any]:
        """The claims of ``token`` once the ring accepts it (signature, ``exp``, ``iss``/``aud``,
        required claims present): an access token by the signing keys; a refresh token by the
        HS256 keys derived from them, or, signed before refresh tokens were HS256, by the signing
        keys; ``token_type`` None: either. A token the derived keys accept must be a refresh token.

        Raises:
            InvalidTokenError: it is not accepted.
        """
        if not isinstance(token, str):
            raise InvalidTokenError("token is not a string")
        ring, now = self.ring, self._clock()
        try:
            if token_type == "refresh":  # check_claims then refuses anything but a refresh token
                try:
                    return ring.refresh_verifier.verify(token, now=now)
                except _NOT_THIS_VERIFIERS as exc:
                    return _verify_instead(ring.verifier, token, now, exc)  # signed before HS256 refresh tokens
            try:
                return ring.verifier.verify(token, now=now)
            except _NOT_THIS_VERIFIERS as exc:
                return _refresh_claims(_verify_instead(ring.refresh_verifier, token, now, exc))
        except JWTError as exc:
            raise InvalidTokenError(f"{exc.code}: {exc.reason}") from None

    def remembers(self, token: str) -> bool:
        """Whether ``token`` is an access token whose signature the ring verified before and
        remembers (``verify`` of it costs no cryptography). Nothing is checked here."""
        return self.ring.verifier.remembers(token)

    def jwks(self) -> dict[str, Any]:
        """The public JWKS: the active key and retired keys whose tokens may still be alive."""
        return self.ring.jwks(now=self._clock())

    async def load(self, *, create: bool) -> None:
        """Build the ring from the store (unless the stored keys are unchanged). With ``create``
        (at start) make a signing key when there is none or ``settings.alg`` changed; without it
        a ring with no active key is logged and the current one kept.

        Raises:
            ServiceUnavailableError: storage is down.
            ValueError: a stored key cannot be decrypted.
        """
        now = self._clock()
        records = await self._keys.signing_keys()
        if not create and records == self._ring_records:
            return  # unchanged: keep the prebuilt Verifier
        try:
            ring: KeyRing | None = KeyRing.build(records, self._cipher, self._settings, now=now)
        except LookupError:
            ring = None
        if ring is None and not create:
            # A reload is no place to create keys: keep signing with the ring we have.
            log.error("no active signing key in storage; keeping the current key ring")
            return
        if ring is None or (create and ring.active.alg != self._settings.alg):
            # Retire whatever is active, even when we found none: a process that started at the
            # same moment may have just created one (the store serializes the two changes).
            record = await self._add_active_key(now)
            log.info("created signing key %s (%s)", record.kid, record.alg)
            records = await self._keys.signing_keys()
            ring = KeyRing.build(records, self._cipher, self._settings, now=now)
        self._ring, self._ring_records = ring, records

    def reload_soon(self) -> None:
        """Reload the ring in the background (another process changed the keys)."""
        self._tasks.spawn(self._reload_logged())

    async def rotate(self) -> str:
        """Make a new active key, retire the current one (published until its tokens expired),
        reload the ring once and tell the other processes. Returns the new ``kid``."""
        record = await self._add_active_key(self._clock())
        await self._changed()
        log.info("signing keys rotated: new active key %s", record.kid)
        return record.kid

    async def retire(self, kid: str) -> RetiredKey:
        """End the key ``kid`` now (see ``AuthService.retire_key``), replacing it first when it is
        the active one; the ring is reloaded and the change published once.

        Raises:
            LookupError: no live signing key has this ``kid``.
            ServiceUnavailableError: storage is down.
        """
        records = {record.kid: record for record in await self._keys.signing_keys()}
        record = records.get(kid)
        now = self._clock()
        if record is None or (record.not_after is not None and record.not_after <= now):
            raise LookupError(f"no live signing key with kid {kid!r}")
        replaced_by = None
        if record.retired_at is None:
            replaced_by = (await self._add_active_key(now)).kid
            log.info("signing keys rotated: new active key %s", replaced_by)
        try:
            sessions = await self._keys.retire_signing_key(kid, now=self._clock())
        except Exception:
            if replaced_by is not None:
                await self._changed()  # the rotation stands even though the retirement failed
            raise
        if sessions is not None or replaced_by is not None:
            await self._changed()
        if sessions is None:
            raise LookupError(f"no live signing key with kid {kid!r}")
        log.warning("signing key %s retired: no longer trusted; %d sessions it signed were ended", kid, sessions)
        return RetiredKey(kid=kid, sessions_ended=sessions, replaced_by=replaced_by)

    async def purge(self, *, now: float) -> int:
        """Delete dead keys from the store (reloading the ring if any went); return how many."""
        dead = await self._keys.purge_signing_keys(now=now)
        if dead:
            await self.load(create=False)
        return dead

    async def _add_active_key(self, now: float) -> SigningKeyRecord:
        record = new_signing_key(self._settings.alg, self._cipher, now=now)
        await self._keys.add_signing_key(
            record, retire_others_at=now, not_after=now + self._settings.key_lifetime_after_retirement
        )
        return record

    async def _changed(self) -> None:
        await self.load(create=False)
        await self._publisher.keys_changed()

    async def _reload_logged(self) -> None:
        try:
            await self.load(create=False)
        except Exception:
            log.exception("could not reload the signing keys")


_NOT_THIS_VERIFIERS = (AlgorithmNotAllowedError, KeyNotFoundError)  # its keys or algorithms are not the token's


def _verify_instead(verifier: Verifier, token: str, now: float, refused: JWTError) -> dict[str, Any]:
    """``verifier``'s claims of ``token``, which another verifier ``refused`` for want of its key or
    algorithm; when ``verifier`` has neither either, that first refusal is the one that stands."""
    try:
        return verifier.verify(token, now=now)
    except _NOT_THIS_VERIFIERS:
        raise refused from None


def _refresh_claims(claims: dict[str, Any]) -> dict[str, Any]:
    """``claims``, which a derived refresh key accepted, must be a refresh token's: that key signs
    nothing else. (One sent where an access token belongs is then refused by ``check_claims``,
    which names its ``token_type``.)"""
    kind = claims.get("token_type")
    if kind != "refresh":
        raise InvalidClaimError(f"token_type is {kind!r:.40}, but its key signs refresh tokens only",
                                claim="token_type")
    return claims
