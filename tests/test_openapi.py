from openapi_spec_validator import validate

from tests.openapi import openapi_document


def test_openapi_document_is_valid_openapi_3():
    validate(openapi_document())


def test_schema_endpoint_serves_the_document(client, db):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert b"/api/v1/swipes/" in response.content


def test_every_operation_documents_its_errors():
    document = openapi_document()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path.endswith(("/schema/",)) or not isinstance(operation, dict):
                continue
            is_public = not operation.get("security") or {} in operation["security"]
            if not is_public:
                assert "401" in operation["responses"], f"{method.upper()} {path} lacks 401"


def test_schema_generation_has_no_warnings(tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
