"""Running one GraphQL request: parse, validate, execute under the state lock, answer.

Malformed JSON, unparsable or invalid documents and bad variables answer HTTP 400; a
business rule's refusal answers HTTP 200 with `errors[]` and that field null, and the
other fields of the document still run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute_sync,
    get_operation_ast,
    parse,
    validate,
)

from connectors.sage_active.sandbox import (
    einvoice_platform,
    mutations,
    organizations,
    purchase_api,
    resolvers,
)
from connectors.sage_active.sandbox.errors import BusinessError
from connectors.sage_active.sandbox.money import dumps
from connectors.sage_active.sandbox.schema import schema
from connectors.sage_active.sandbox.state import SandboxState

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Request:
    """A parsed and validated GraphQL request, ready to execute."""

    document: DocumentNode
    operation: OperationDefinitionNode
    variables: dict[str, Any] | None
    operation_name: str | None

    @property
    def root_fields(self) -> list[str]:
        """Root field names (not aliases): what statistics and faults are keyed on."""
        return [
            s.name.value
            for s in self.operation.selection_set.selections
            if isinstance(s, FieldNode)
        ]

    @property
    def is_mutation(self) -> bool:
        return self.operation.operation == OperationType.MUTATION


class BadRequest(Exception):
    """The request is not a valid GraphQL request (HTTP 400); `body` is the answer."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.body = dumps({"errors": [{"message": message} for message in messages]})


@cache
def executable_schema() -> GraphQLSchema:
    """The schema with the root resolvers installed."""
    built = schema()
    assert built.query_type is not None
    assert built.mutation_type is not None
    for name in resolvers.SOURCES:
        built.query_type.fields[name].resolve = resolvers.list_resolver(name)
    built.query_type.fields["organizations"].resolve = organizations.organizations
    built.query_type.fields["organizationDetail"].resolve = organizations.organization_detail
    built.query_type.fields["organizationEInvoiceSetupByOrgId"].resolve = organizations.setup_query
    built.query_type.fields["userProfile"].resolve = resolvers.user_profile
    for name, root in purchase_api.ROOTS.items():
        built.query_type.fields[name].resolve = root
    for name, resolve in mutations.MUTATIONS.items():
        built.mutation_type.fields[name].resolve = resolve
    return built


def parse_request(body: bytes) -> Request:
    """Raises: BadRequest for bad JSON, a missing query, or an invalid document."""
    try:
        payload = json.loads(body or b"null", parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest([f"request body is not JSON: {exc}"]) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        raise BadRequest(["request body must be a JSON object with a `query` string"])
    variables = payload.get("variables")
    name = payload.get("operationName")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest(["`variables` must be a JSON object"])
    if name is not None and not isinstance(name, str):
        raise BadRequest(["`operationName` must be a string"])
    document = _document(payload["query"])
    operation = get_operation_ast(document, name)
    if operation is None:
        raise BadRequest(["the operation to run cannot be determined (operationName?)"])
    return Request(document, operation, variables, name)


@lru_cache(maxsize=512)
def _document(query: str) -> DocumentNode:
    """`query` parsed and validated, once per distinct text: a client sends the same
    documents again and again (execution never changes the tree).

    Raises:
        BadRequest: unparsable or invalid (not cached: raised each time).
    """
    try:
        document = parse(query)
    except GraphQLError as exc:
        raise BadRequest([exc.message]) from exc
    errors = validate(executable_schema(), document)
    if errors:
        raise BadRequest([error.message for error in errors])
    return document


def run(state: SandboxState, request: Request, organization: str | None) -> tuple[int, str]:
    """Execute under the state lock; (HTTP status, JSON body).

    Raises:
        BadRequest: the variables do not fit the operation.
    """
    context = resolvers.Context(state=state, organization_header=organization)
    with state.lock:
        einvoice_platform.advance(state)
        result = execute_sync(
            executable_schema(),
            request.document,
            variable_values=request.variables,
            operation_name=request.operation_name,
            context_value=context,
            field_resolver=resolvers.field_resolver,
        )
    if result.data is None and result.errors:
        raise BadRequest([error.message for error in result.errors])
    errors = [_error(error) for error in result.errors or []]
    body: dict[str, Any] = {"data": result.data}
    if errors:
        body = {"errors": errors, "data": result.data}
    return 200, dumps(body)


def _error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    entry: dict[str, Any] = {"message": error.message, "path": error.path}
    if isinstance(original, BusinessError):
        entry["message"] = original.message
        entry["extensions"] = {"code": original.key, **original.details}
    elif original is not None:
        log.error("sandbox resolver failed", exc_info=original)
        entry["message"] = "Unexpected Execution Error"
        entry["extensions"] = {"code": "INTERNAL_ERROR"}
    return entry
