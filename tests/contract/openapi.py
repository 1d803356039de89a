"""Reading a service's OpenAPI document: operations, parameters, response schemas, and jsonschema validation.

FastAPI emits OpenAPI 3.1, whose schemas are JSON Schema 2020-12: a response schema is validated as is, with
the document's ``components`` beside it so that its ``#/components/schemas/...`` references resolve.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

Document = dict[str, Any]


def operation(doc: Document, path: str, method: str) -> dict[str, Any]:
    operations: dict[str, Any] = doc["paths"].get(path, {})
    assert method.lower() in operations, (
        f"{method.upper()} {path} is not in the schema ({sorted(doc['paths'])})"
    )
    found: dict[str, Any] = operations[method.lower()]
    return found


def parameter(doc: Document, path: str, method: str, name: str, where: str) -> dict[str, Any]:
    for param in operation(doc, path, method).get("parameters", []):
        if param["name"] == name and param["in"] == where:
            found: dict[str, Any] = param
            return found
    raise AssertionError(f"{method.upper()} {path} has no {where} parameter {name!r}")


def resolve(doc: Document, schema: dict[str, Any]) -> dict[str, Any]:
    """Follow one ``$ref`` (the usual shape of a FastAPI response or property schema)."""
    ref = schema.get("$ref")
    if ref is None:
        return schema
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    resolved: dict[str, Any] = node
    return resolved


def response_schema(doc: Document, path: str, method: str, status: int) -> dict[str, Any]:
    response = operation(doc, path, method)["responses"][str(status)]
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def validator(doc: Document, schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": doc.get("components", {})})


def assert_valid(doc: Document, schema: dict[str, Any], instance: Any) -> None:
    errors = sorted(validator(doc, schema).iter_errors(instance), key=str)
    assert not errors, "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)
