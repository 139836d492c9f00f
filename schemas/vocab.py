"""The vocabulary of the wire contract: every enumerated value phones and clients see."""

ROLES = ("admin", "supervisor", "caregiver", "community_worker", "provider_manager")
REGION_LEVELS = ("city", "district", "street", "community")
GENDERS = ("male", "female")
ELDER_CATEGORIES = (
    "solitary",         # 独居
    "empty_nest",       # 空巢
    "left_behind",      # 留守
    "special_family",   # 计划生育特殊家庭
    "low_income",       # 低保
    "extreme_poverty",  # 特困
    "advanced_age",     # 高龄 (80+)
    "disabled",         # 失能/半失能
)
RISK_TIERS = ("high", "key", "general")
PATROL_MODES = ("door", "phone")
PATROL_PERIODS = ("week", "month", "quarter")
# `paused`: the elder is in hospital; the plan resumes on their return date.
PLAN_STATUSES = ("active", "paused", "ended")
# Where an elder stands in the register; only a confirmed status report moves them out of `active`.
ELDER_STATUSES = ("active", "suspended", "deceased", "moved_out")
# What a status report says (a patrol's `moved` outcome is reported as `moved_out`), and where it stands.
STATUS_REPORT_KINDS = ("deceased", "moved_out", "in_hospital")
STATUS_REPORT_STATES = ("pending", "confirmed", "rejected")
RECURRENCE_FREQS = ("daily", "weekly", "monthly")
TASK_KINDS = ("service", "patrol")
TASK_STATUSES = ("scheduled", "in_progress", "completed", "missed", "cancelled")
