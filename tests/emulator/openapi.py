"""Validation of emulator answers against Discord's official OpenAPI description.

The description lives beside the repository (``../shared/discord-api-spec/openapi.json``) and
is never copied into it. Missing file: the calling test is skipped, or fails when ``CI`` is set.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).parents[3] / "shared" / "discord-api-spec" / "openapi.json"
_URI = "urn:discord-openapi"


def spec_or_skip() -> dict[str, Any]:
    """The parsed description; skips (fails under ``CI``) when the file is missing."""
    if not SPEC_PATH.exists():
        message = f"Discord OpenAPI description not found at {SPEC_PATH}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return _load()


@cache
def _load() -> dict[str, Any]:
    spec = json.loads(SPEC_PATH.read_text())
    _apply_errata(spec)
    return spec


def _apply_errata(spec: dict[str, Any]) -> None:
    """Known mistakes of the description, corrected narrowly (each one is in the report).

    - ``Error.code``: the field errors of a 400 Invalid Form Body carry string codes on real
      Discord (``{"code": "BASE_TYPE_MAX_LENGTH", "message": …}``, as Discord's own docs show),
      but the description types every ``code`` as an integer.
    - ``MessageReferenceType`` lists only DEFAULT (0), though Discord documents FORWARD (1)
      and sends it on forwarded messages.
    """
    error = spec["components"]["schemas"]["Error"]["properties"]["code"]
    error["type"] = ["integer", "string"]
    reference_type = spec["components"]["schemas"]["MessageReferenceType"]
    reference_type["oneOf"].append(
        {"title": "FORWARD", "description": "Reference to a forwarded message", "const": 1}
    )


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(_load(), default_specification=DRAFT202012)
    return Registry().with_resource(_URI, resource)


@cache
def _validator(pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{_URI}#{pointer}"}, registry=_registry())


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (e.g. ``#/components/responses/…``) to its target."""
    while "$ref" in node:
        target: Any = _load()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _errors(validator: Draft202012Validator, instance: Any) -> list[str]:
    found = sorted(validator.iter_errors(instance), key=lambda e: len(list(e.absolute_path)))
    return [_describe(e) for e in found[:5]]


def _describe(error: ValidationError) -> str:
    # The deepest cause of a oneOf/anyOf failure is the useful one.
    while error.context:
        error = min(error.context, key=lambda e: -len(list(e.absolute_path)))
    path = "/".join(str(p) for p in error.absolute_path)
    return f"at /{path}: {error.message[:300]}"


def validate_component(name: str, instance: Any) -> None:
    """Assert that ``instance`` validates against ``components/schemas/<name>``."""
    spec = spec_or_skip()
    if name not in spec["components"]["schemas"]:
        raise AssertionError(f"no schema named {name!r} in the OpenAPI description")
    problems = _errors(_validator(f"/components/schemas/{name}"), instance)
    assert not problems, f"{name} does not validate:\n" + "\n".join(problems)


def response_pointer(method: str, route: str, status: int) -> str | None:
    """JSON pointer of the response schema for (method, route template, status), or None if
    the description has no body for it (e.g. 204). Raises AssertionError for unknown ones."""
    spec = spec_or_skip()
    path_item = spec["paths"].get(route)
    assert path_item is not None, f"route {route} is not in the OpenAPI description"
    operation = path_item.get(method.lower())
    assert operation is not None, f"{method} {route} is not in the OpenAPI description"
    responses = operation["responses"]
    key = str(status) if str(status) in responses else f"{str(status)[0]}XX"
    assert key in responses, f"{method} {route} does not document status {status}"
    response = _resolve(responses[key])
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    escaped = route.replace("~", "~0").replace("/", "~1")
    if "$ref" in responses[key]:
        return responses[key]["$ref"].removeprefix("#") + "/content/application~1json/schema"
    return f"/paths/{escaped}/{method.lower()}/responses/{key}/content/application~1json/schema"


def validate_response(method: str, route: str, status: int, body: Any) -> None:
    """Assert that a REST answer matches what the description documents for it."""
    pointer = response_pointer(method, route, status)
    if pointer is None:
        assert body is None, f"{method} {route} {status} should have no body, got {body!r}"[:500]
        return
    problems = _errors(_validator(pointer), body)
    assert not problems, f"{method} {route} {status} does not validate:\n" + "\n".join(problems)
