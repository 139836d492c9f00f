"""GB/T 42195-2022 capability level (老年人能力等级) from the four group scores.

Cut-offs on the total (0–90): 90 intact (0), 66–89 mild (1), 46–65 moderate (2),
30–45 severe (3), 0–29 complete loss (4). Adjustments: coma → level 4 outright; a diagnosis of
dementia or another mental disorder → one level worse; two or more care-risk events (fall,
choking, self-harm, wandering, …) in the last 30 days → one level worse. The two one-level
adjustments add up, and no level goes past 4.
"""

GROUP_MAXIMA = {"self_care": 32, "motion": 15, "mental": 28, "perception": 15}
LEVEL_NAMES = {0: "能力完好", 1: "轻度失能", 2: "中度失能", 3: "重度失能", 4: "完全失能"}


def level_from_total(total: int) -> int:
    if not 0 <= total <= 90:
        raise ValueError("total must be between 0 and 90")
    if total == 90:
        return 0
    if total >= 66:
        return 1
    if total >= 46:
        return 2
    if total >= 30:
        return 3
    return 4


def capability_level(*, self_care: int, motion: int, mental: int, perception: int,
                     is_coma: bool = False, has_dementia: bool = False,
                     care_risk_events_30d: int = 0) -> tuple[int, int]:
    """Return (total, level). Raises ValueError for a group score outside its range."""
    scores = {"self_care": self_care, "motion": motion, "mental": mental, "perception": perception}
    for name, value in scores.items():
        if not 0 <= value <= GROUP_MAXIMA[name]:
            raise ValueError(f"{name} must be between 0 and {GROUP_MAXIMA[name]}")
    total = sum(scores.values())
    if is_coma:
        return total, 4
    level = level_from_total(total)
    if has_dementia:
        level += 1
    if care_risk_events_30d >= 2:
        level += 1
    return total, min(level, 4)
