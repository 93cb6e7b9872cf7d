import httpx
import pytest

from connectors.sage_active.errors import (
    ErrorDetail,
    SageAuthError,
    SageBusinessError,
    SageComplexityError,
    SageInvalidRequest,
    SageRateLimited,
    SageTransientError,
    classify_response,
    classify_transport_error,
    graphql_errors_error,
    parse_retry_after,
)


def _classify(status: int, body: object = None, headers: dict[str, str] | None = None) -> object:
    return classify_response(httpx.Response(status, headers=headers), body, now=1000.0)


def test_http_200_with_json_is_not_an_error() -> None:
    assert _classify(200, {"data": {}}) is None


def test_http_200_without_json_is_transient() -> None:
    assert isinstance(_classify(200, None), SageTransientError)


def test_429_carries_retry_after() -> None:
    error = _classify(429, None, {"Retry-After": "7"})
    assert isinstance(error, SageRateLimited)
    assert error.retry_after == 7.0
    assert error.retryable


@pytest.mark.parametrize("status", [401, 403])
def test_auth_statuses(status: int) -> None:
    error = _classify(status)
    assert isinstance(error, SageAuthError)
    assert not error.retryable


@pytest.mark.parametrize(("status", "committed"), [(500, True), (502, True), (503, False)])
def test_server_errors_are_transient(status: int, committed: bool) -> None:
    error = _classify(status)
    assert isinstance(error, SageTransientError)
    assert error.maybe_committed is committed


def test_400_is_invalid_request_with_details() -> None:
    error = _classify(400, {"errors": [{"message": "The field `nope` does not exist."}]})
    assert isinstance(error, SageInvalidRequest)
    assert "nope" in error.message
    assert not error.retryable


def test_business_error_keeps_key_message_and_path() -> None:
    error = graphql_errors_error(
        [{"message": "global.businessErrors.invoiceNotPending", "path": ["op1"]}]
    )
    assert isinstance(error, SageBusinessError)
    assert error.errors == [
        ErrorDetail(
            "global.businessErrors.invoiceNotPending",
            "global.businessErrors.invoiceNotPending",
            ("op1",),
        )
    ]


def test_extension_key_wins_over_plain_message() -> None:
    detail = ErrorDetail.from_graphql(
        {"message": "Invoice is not pending", "extensions": {"key": "global.x.y"}}
    )
    assert (detail.key, detail.message) == ("global.x.y", "Invoice is not pending")


def test_complexity_errors_are_recognised() -> None:
    error = graphql_errors_error(
        [{"message": "The maximum allowed operation complexity was exceeded."}]
    )
    assert isinstance(error, SageComplexityError)


def test_transport_errors() -> None:
    request = httpx.Request("POST", "https://x")
    connect = classify_transport_error(httpx.ConnectError("no", request=request))
    read = classify_transport_error(httpx.ReadTimeout("slow", request=request))
    assert not connect.maybe_committed
    assert read.maybe_committed
    assert "timeout" in read.message


def test_retry_after_forms() -> None:
    assert parse_retry_after("2.5", 0) == 2.5
    assert parse_retry_after(None, 0) == 1.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:30 GMT", 10.0) == 20.0
    assert parse_retry_after("garbage", 0) == 1.0
