from tests.console.conftest import as_user  # noqa: F401  (a console client signed in)
