# The pages' role clients and dates, shared with the tracker's page tests.
from tests.tracker.web.conftest import (  # noqa: F401
    alice_client,
    chief_client,
    sam_client,
    today,
)
