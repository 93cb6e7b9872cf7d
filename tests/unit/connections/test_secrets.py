"""Connection secrets at rest: Fernet, several keys during a rotation."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bridge.connections.secrets import SecretBox, SecretKeyError, fingerprint, new_key


def box(*keys: str) -> SecretBox:
    return SecretBox([SecretStr(key) for key in keys])


def test_a_secret_comes_back_and_is_not_stored_in_clear() -> None:
    token = box(new_key()).encrypt("whsec_abc")
    assert "whsec_abc" not in token


def test_round_trip() -> None:
    key = new_key()
    assert box(key).decrypt(box(key).encrypt("whsec_abc")) == "whsec_abc"


def test_during_a_rotation_old_values_open_and_new_ones_use_the_first_key() -> None:
    old, new = new_key(), new_key()
    before = box(old).encrypt("s3cret-value")
    rotating = box(new, old)
    assert rotating.decrypt(before) == "s3cret-value"
    after = rotating.encrypt("another-value")
    assert box(new).decrypt(after) == "another-value"  # made with the first key only
    with pytest.raises(SecretKeyError):
        box(old).decrypt(after)


def test_rotate_reencrypts_with_the_first_key_so_the_old_one_can_go() -> None:
    old, new = new_key(), new_key()
    token = box(old).encrypt("s3cret-value")
    rotated = box(new, old).rotate(token)
    assert box(new).decrypt(rotated) == "s3cret-value"


def test_a_value_no_key_opens_is_a_clear_error() -> None:
    token = box(new_key()).encrypt("s3cret-value")
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        box(new_key()).decrypt(token)


def test_no_key_and_a_bad_key_are_named() -> None:
    with pytest.raises(SecretKeyError, match="BRIDGE_SECRET_KEY is not set"):
        SecretBox([])
    with pytest.raises(SecretKeyError, match="#2 is not a Fernet key"):
        box(Fernet.generate_key().decode(), "not-a-key")


def test_fingerprints_tell_values_apart_without_showing_them() -> None:
    assert fingerprint("a-secret") == fingerprint("a-secret")
    assert fingerprint("a-secret") != fingerprint("b-secret")
    assert "a-secret" not in fingerprint("a-secret")
