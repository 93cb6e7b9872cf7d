from __future__ import annotations

import base64
import json
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from connectors.outbound import InvalidSecret, new_secret, secret_key, sign, signed_headers


def test_signature_verifies_with_the_standard_webhooks_library() -> None:
    # given a fresh secret and a message signed now
    secret = new_secret()
    body = json.dumps({"type": "invoice.posted", "data": {"total": "12.30"}}).encode()
    headers = signed_headers(secret, "msg_abc", int(time.time()), body)

    # then the reference library accepts it and returns the payload
    assert Webhook(secret).verify(body, headers) == json.loads(body)


def test_signature_changes_with_body_id_and_timestamp() -> None:
    secret = new_secret()
    now = int(time.time())
    base = sign(secret, "msg_1", now, b"{}")
    assert base.startswith("v1,")
    assert sign(secret, "msg_1", now, b"{} ") != base
    assert sign(secret, "msg_2", now, b"{}") != base
    assert sign(secret, "msg_1", now + 1, b"{}") != base


def test_a_tampered_body_is_rejected_by_the_receiver() -> None:
    secret = new_secret()
    headers = signed_headers(secret, "msg_1", int(time.time()), b'{"a":"1.00"}')
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":"9.00"}', headers)


def test_known_vector() -> None:
    # HMAC-SHA256 over "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}" with the
    # key of the Standard Webhooks specification's example secret.
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == expected


def test_new_secrets_are_random_32_byte_keys() -> None:
    first, second = new_secret(), new_secret()
    assert first != second
    assert first.startswith("whsec_")
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "starts with 'whsec_'"),
        ("whsec_not base64!", "followed by base64"),
        ("whsec_" + base64.b64encode(b"short").decode(), "not 5"),
    ],
)
def test_bad_secrets_are_refused_with_a_reason(secret: str, message: str) -> None:
    with pytest.raises(InvalidSecret, match=message):
        secret_key(secret)
