"""Connection secrets at rest: Fernet encryption with keys from `BRIDGE_SECRET_KEY`.

Several keys may be given (comma-separated) during a rotation: new values are encrypted with
the first, values are decrypted with whichever key made them (`MultiFernet`), and
`SecretBox.rotate` re-encrypts an old token with the first key (`bridge connections
rotate-key`). A secret is never shown again after it was stored: what the API shows is a
`fingerprint` (a short SHA-256 prefix) so that a person can tell two values apart.
"""

from __future__ import annotations

import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr


class SecretKeyError(RuntimeError):
    """No usable `BRIDGE_SECRET_KEY`, or a stored secret no configured key can open."""


def new_key() -> str:
    """A fresh key for `BRIDGE_SECRET_KEY` (url-safe base64 of 32 random bytes)."""
    return Fernet.generate_key().decode()


def fingerprint(value: str) -> str:
    """A short, stable, non-reversible name of a secret value: `sha256:<12 hex>`."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


class SecretBox:
    """Encrypts with the first key, decrypts with any of them."""

    def __init__(self, keys: list[SecretStr]) -> None:
        """Raises:
        SecretKeyError: no key, or a key that is not a Fernet key (the message says which).
        """
        if not keys:
            raise SecretKeyError(
                "BRIDGE_SECRET_KEY is not set: connection secrets are stored encrypted with it "
                "(make one with `bridge connections keygen`)"
            )
        fernets: list[Fernet] = []
        for index, key in enumerate(keys):
            try:
                fernets.append(Fernet(key.get_secret_value().encode()))
            except ValueError:
                raise SecretKeyError(
                    f"BRIDGE_SECRET_KEY value #{index + 1} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes; `bridge connections keygen`)"
                ) from None
        self._fernet = MultiFernet(fernets)

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        """Raises:
        SecretKeyError: no configured key opens `token` (a key was dropped too early).
        """
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                "a stored connection secret cannot be decrypted with any BRIDGE_SECRET_KEY "
                "value: keep the old key in the list until `bridge connections rotate-key` ran"
            ) from None

    def rotate(self, token: str) -> str:
        """`token` re-encrypted with the first key.

        Raises:
            SecretKeyError: no configured key opens `token`.
        """
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise SecretKeyError("a stored secret opens with no BRIDGE_SECRET_KEY value") from None
