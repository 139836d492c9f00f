"""Imports every domain's models so the metadata (and Alembic) sees all tables. The order does
not matter: the commit hooks are installed by create_app (backend/commit_hooks.py)."""

from backend import changefeed, jobruns  # noqa: F401
from backend.audit import models as audit_models  # noqa: F401
from backend.auth import models as auth_models  # noqa: F401
from backend.elders import models as elders_models  # noqa: F401
from backend.followups import models as followups_models  # noqa: F401
from backend.media import models as media_models  # noqa: F401
from backend.plans import models as plans_models  # noqa: F401
from backend.plates import models as plates_models  # noqa: F401
from backend.providers import models as providers_models  # noqa: F401
from backend.rectifications import models as rectifications_models  # noqa: F401
from backend.regions import models as regions_models  # noqa: F401
from backend.register import models as register_models  # noqa: F401
from backend.reviews import models as reviews_models  # noqa: F401
from backend.settlement import models as settlement_models  # noqa: F401
from backend.tasks import models as tasks_models  # noqa: F401
from backend.users import models as users_models  # noqa: F401
from backend.visitlog import models as visitlog_models  # noqa: F401
from backend.visits import models as visits_models  # noqa: F401
