"""A provider manager for each of the city's two providers, and the helpers of tests/reviews (a
visit by direct insert, an API caller) and tests/api (the world with plans and tasks)."""

import pytest

from backend.extensions import db
from tests.api.conftest import headers, world  # noqa: F401  (plans and tasks on both streets; role headers)
from tests.api.test_access_matrix import matrix_world  # noqa: F401  (the access matrix's world)
from tests.console.conftest import as_user, console  # noqa: F401  (a signed-in console client)
from tests.followups.conftest import make_followup  # noqa: F401
from tests.reviews.conftest import api, make_visit  # noqa: F401


@pytest.fixture
def managers(city, make_user):
    """(manager of city.provider, manager of city.other_provider), each its provider's manager;
    city.provider is based in street A, city.other_provider in street B."""
    mine = make_user("mgr_yikang", "provider_manager", provider_id=city.provider.id)
    other = make_user("mgr_nuanyang", "provider_manager", provider_id=city.other_provider.id)
    city.provider.manager_id, city.provider.region_id = mine.id, city.street_a.id
    city.other_provider.region_id = city.street_b.id
    city.other_provider.manager_id = other.id
    db.session.commit()
    return mine, other
