"""Checking the provisioning API's answers against its OpenAPI 3.1 description.

OpenAPI 3.1 schema objects are JSON Schema 2020-12: the whole file is one resource of a
``referencing`` registry, so ``$ref: "#/components/schemas/…"`` resolves inside it.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from ruamel.yaml import YAML

from bridge.web.provisioning import OPENAPI_FILE

BASE_URI = "https://provisioning.invalid/openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@cache
def openapi() -> dict[str, Any]:
    """The description, as plain JSON data."""
    return _plain(YAML(typ="safe").load(OPENAPI_FILE.read_text("utf-8")))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


@cache
def registry() -> Registry:
    resource = Resource.from_contents(openapi(), default_specification=DRAFT202012)
    return Registry().with_resource(BASE_URI, resource)


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def described_operations() -> set[tuple[str, str]]:
    """(METHOD, path template) of every operation in the file."""
    return {
        (method.upper(), path)
        for path, item in openapi()["paths"].items()
        for method in item
        if method in METHODS
    }


def response_schema_pointer(method: str, template: str, status: int) -> str:
    """The JSON pointer of the JSON body's schema of this answer; fails when undocumented."""
    operation = openapi()["paths"].get(template, {}).get(method.lower())
    assert operation is not None, f"{method} {template} is not in the OpenAPI file"
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {template} answered {status}, not described"
    pointer = f"/paths/{_escape(template)}/{method.lower()}/responses/{status}"
    response = responses[str(status)]
    if "$ref" in response:
        pointer = response["$ref"].removeprefix("#")
        name = pointer.rsplit("/", 1)[-1]
        response = openapi()["components"]["responses"][name]
    assert "application/json" in response.get("content", {}), f"{pointer} has no JSON body"
    return pointer + "/content/application~1json/schema"


def check_response(method: str, template: str, status: int, body: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``body`` is what the file describes."""
    pointer = response_schema_pointer(method, template, status)
    schema = {"$ref": BASE_URI + "#" + quote(pointer)}
    Draft202012Validator(schema, registry=registry()).validate(body)


def check_schemas() -> None:
    """Every schema in ``components`` is a valid JSON Schema 2020-12."""
    for name, schema in openapi()["components"]["schemas"].items():
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as error:
            raise AssertionError(f"components/schemas/{name}: {error}") from error
