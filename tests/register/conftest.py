"""The register tests use the API tests' headers for every role and the console tests' signed-in client."""

from tests.api.conftest import headers  # noqa: F401  (a fixture)
from tests.console.conftest import as_user  # noqa: F401  (a fixture)
