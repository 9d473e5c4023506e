"""Property-based fuzzing of REST API v1 against its own OpenAPI document (schemathesis).

For every operation, schemathesis generates requests from the schema (valid ones and, where it
can, invalid ones) and sends them to the WSGI app as a signed-in guest with photos in the deck.
Every response must be no 5xx, have a documented status code and content type, and match the
documented schema; schema-violating requests must be refused with a 4xx. A bounded number of
cases per operation (SCHEMATHESIS_MAX_EXAMPLES, default 25) keeps the run under half a minute."""

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("wsgi_keeps_the_test_connection")]

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "25"))


@pytest.fixture
def guest_token(published_photos):
    from users.services import guest_create

    published_photos(6)
    return guest_create()[1].key


# Loaded at collection (pytest-django has set Django up by then; serving the schema reads no
# database). schemathesis's fixture-based lazy loader does not work with pytest 9.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema_and_never_fails(case, guest_token):
    case.call_and_validate(
        headers={"Authorization": f"Token {guest_token}"},
        # A schema-valid request may still break a business rule (a wrong password, a weak
        # one, an unknown model name): those are documented 400s, not failures.
        excluded_checks=[positive_data_acceptance],
    )
