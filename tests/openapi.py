"""Check API responses against the project's own OpenAPI document (Zulip's habit): every
response a test receives must be a documented status with a body that matches its schema."""

import functools
import json
import re

from drf_spectacular.generators import SchemaGenerator
from openapi_schema_validator import OAS30Validator
from rest_framework.test import APIClient


@functools.cache
def openapi_document() -> dict:
    schema = SchemaGenerator(api_version="v1").get_schema(request=None, public=True)
    # JSON round trip: plain dicts and strings only (no lazy translations, no OrderedDicts).
    from rest_framework.utils.encoders import JSONEncoder

    return json.loads(json.dumps(schema, cls=JSONEncoder))


def _resolve(node, components):
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return _resolve(components[name], components)
        if node.get("nullable") and len(node.get("allOf", ())) == 1:
            # drf-spectacular writes a nullable reference as {allOf: [ref], nullable: true};
            # OAS30Validator applies `nullable` only beside `type`, so it would refuse the null.
            rest = {key: value for key, value in node.items() if key not in ("allOf", "nullable")}
            return {"anyOf": [_resolve(node["allOf"][0], components), {"enum": [None]}], **rest}
        return {key: _resolve(value, components) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, components) for item in node]
    return node


@functools.cache
def _path_patterns() -> list[tuple[re.Pattern, str]]:
    patterns = []
    for template in openapi_document()["paths"]:
        regex = re.sub(r"\{[^}]+\}", r"[^/]+", template)
        patterns.append((re.compile(f"^{regex}$"), template))
    return patterns


def assert_matches_schema(response) -> None:
    request = response.wsgi_request
    path, method = request.path, request.method.lower()
    templates = [template for pattern, template in _path_patterns() if pattern.match(path)]
    if not templates:
        assert response.status_code == 404, (
            f"{method.upper()} {path} is not in the OpenAPI document"
        )
        return
    document = openapi_document()
    operation = document["paths"][templates[0]].get(method)
    assert operation is not None, f"{method.upper()} {templates[0]} is not documented"
    documented = operation["responses"]
    status = str(response.status_code)
    assert status in documented, (
        f"{method.upper()} {path} answered {status}, documented: {sorted(documented)}; "
        f"body: {response.content[:300]!r}"
    )
    content = documented[status].get("content", {}).get("application/json")
    if content is None:
        return
    schema = _resolve(content["schema"], document["components"]["schemas"])
    OAS30Validator(schema).validate(json.loads(response.content))


class SchemaCheckingAPIClient(APIClient):
    def request(self, **kwargs):
        response = super().request(**kwargs)
        assert_matches_schema(response)
        return response
