"""The demo city: 辽河市, a city of two districts — 清河区 (3 streets, 12 communities, 300 elders) and
白山区 (1 street, 2 communities, 40 elders) — with providers, staff and plans.

Deterministic (seeded), so every demo shows the same city. For demos and drills only.
"""

import random
from datetime import date, timedelta

from sqlalchemy import select

from backend import partitions
from backend.clock import local_midnight, local_today, utcnow
from backend.demo_field import FieldDay, crosscheck, previous_month, reported_deceased
from backend.elders import risk
from backend.elders.assessment import capability_level
from backend.elders.models import Assessment, Elder
from backend.extensions import db
from backend.plans.models import CarePlan, CarePlanItem, PatrolPlan
from backend.plates.services import ensure_plates
from backend.providers.models import Provider
from backend.regions.models import Region
from backend.settlement.demo import seed_settlement
from backend.tasks.generation import ensure_service_types, generate_tasks
from backend.tasks.jobs import sweep_job
from backend.users.models import User
from backend.users.services import create_user

DEMO_PASSWORD = "carerounds-demo"

CITY = ("辽河市", "210100000000")
DISTRICT = ("清河区", "210105000000", 41.80, 123.40)
# The second district is seeded after the first, from its own random numbers, so 清河区 stays the
# district every earlier demo showed.
SECOND_DISTRICT = ("白山区", "210106000000", 41.70, 123.30)
SECOND_STREETS = {"白山街道": ["白山社区", "泉水社区"]}
STREETS = {
    "长青街道": ["长青社区", "松柏社区", "桂园社区", "翠湖社区"],
    "东湖街道": ["东湖社区", "荷花社区", "滨江社区", "望月社区"],
    "柳林镇": ["柳林村", "前进村", "丰收村", "河湾村"],
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["秀英", "桂英", "玉兰", "淑珍", "凤英", "建国", "国华", "德福", "振华", "淑兰", "秀兰", "志强",
         "玉珍", "文华", "桂兰", "永福", "明", "红", "兰芳", "春生", "金凤", "长山", "福贵", "素梅"]
ROADS = ["长青路", "松柏街", "桂园巷", "翠湖路", "东湖大街", "荷花路", "滨江路", "望月街", "柳林路", "前进路"]
PROVIDERS = [("清河区颐康居家养老服务中心", "91210105MA0Y1A2B3C"), ("暖阳养老服务有限公司", "91210105MA0Y4D5E6F")]
# Caregivers still without a certificate: the first provider falls below the 90 % certification
# rate (持证上岗率) the seeds ask for, the second stays above it.
UNCERTIFIED = (7, 14, 28)
MANAGER_NAMES = ("颐康中心 负责人 何丽", "暖阳养老 负责人 邓强")
CARE_NOTES = ["", "高血压，按时服药", "行动不便，需搀扶", "听力较差，请大声说话", "糖尿病，饮食清淡"]
CARE_PACKAGES = [
    ("meal", {"freq": "daily", "start": "11:00", "end": "13:00"}, 20),
    ("cleaning", {"freq": "weekly", "weekdays": [2, 5], "start": "09:00", "end": "11:00"}, 45),
    ("bathing", {"freq": "weekly", "weekdays": [6], "start": "14:00", "end": "16:00"}, 30),
    ("medical", {"freq": "weekly", "weekdays": [3], "start": "15:00", "end": "17:00"}, 20),
    ("companionship", {"freq": "weekly", "weekdays": [1, 4], "start": "16:00", "end": "17:30"}, 30),
]


def seed_demo(now=None) -> bool:
    """Seed the city unless an `admin` account exists. Returns whether anything was seeded."""
    if db.session.execute(select(User.id).where(User.username == "admin")).first():
        return False
    now = now or utcnow()
    rng = random.Random(20240601)
    ensure_service_types()
    city = _region(CITY[0], "city", None, CITY[1])
    communities, streets, district = _regions(city, DISTRICT, STREETS)
    providers = [Provider(name=name, credit_code=code, contact_phone="024-8888" + str(1000 + i),
                          address=f"清河区{ROADS[i]}{10 + i}号", region_id=district.id)
                 for i, (name, code) in enumerate(PROVIDERS)]
    db.session.add_all(providers)
    db.session.flush()
    staff = _staff(providers, communities, streets, district)
    second = _second_district(city, providers)
    # Each provider has its own manager account (manager1, manager2), seeing only that provider.
    # The first provider's missed visits go to its manager first; the second names none as the
    # first owner, so the region's supervisor gets them at once. Both paths show in a drill.
    providers[0].manager_id = staff["managers"][0].id
    today = local_today(now)
    yesterday = today - timedelta(days=1)
    # The city's history starts on the first of the previous month, a finished month.
    history_from = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    month_ends = min(today.replace(day=1), yesterday)
    # Its months made first: a fresh database has only this month's partitions and those ahead,
    # and the history would otherwise sit in the default partitions.
    for table in partitions.MONTHLY:
        partitions.ensure_months(db.session, table, history_from, today)
    elders = _elders(rng, communities, today)
    _quarterly(elders, staff["supervisor1"], today, local_midnight(history_from))
    _plans(rng, elders, providers, staff, history_from, today, local_midnight(history_from))
    second_rng = random.Random(20240610)
    second_elders = _elders(second_rng, second["communities"], today, district=SECOND_DISTRICT, count=40)
    _plans(second_rng, second_elders, providers, second, history_from, today, local_midnight(history_from))
    # every home gets its door plate
    ensure_plates(elders + second_elders, at=local_midnight(history_from))
    db.session.flush()
    # The previous month's tasks, made as the hourly job made them; then yesterday's on, likewise.
    generate_tasks(now=local_midnight(history_from) + timedelta(hours=1),
                   horizon_days=(today.replace(day=1) - history_from).days)
    generate_tasks(now=local_midnight(yesterday) + timedelta(hours=1))
    generate_tasks(now=now)
    db.session.commit()
    field = FieldDay(random.Random(20240602))
    # The city's bureau reviews the month of both districts.
    previous_month(field, history_from, month_ends, second["city_supervisor"])
    db.session.commit()
    field.rng = rng  # yesterday stays as it was before the previous month was seeded
    # One caregiver claims two of yesterday's visits at once: the cross-check flags the later one.
    field.work(yesterday, drawer_share=0.2, quiet_patrols=False, overlapping=True)
    crosscheck(local_midnight(today) + timedelta(hours=1))
    db.session.commit()
    # The early-morning sweep: yesterday's visits nobody synced are missed and followed up
    # (the job's two steps, each committed).
    sweep_job(now=local_midnight(today) + timedelta(hours=3))
    reported_deceased(field, now)  # a deceased report awaiting the supervisor's confirmation
    seed_settlement(providers, history_from, today, second["city_supervisor"], now)
    db.session.commit()
    return True


def _regions(city, district_row, street_rows):
    name, code, _, _ = district_row
    district = _region(name, "district", city, code)
    streets, communities = [], []
    for s, (street_name, community_names) in enumerate(street_rows.items(), start=1):
        street = _region(street_name, "street", district, f"{code[:6]}{s:03d}000")
        streets.append(street)
        for c, community_name in enumerate(community_names, start=1):
            communities.append(_region(community_name, "community", street, f"{code[:6]}{s:03d}{c:03d}"))
    return communities, streets, district


def _region(name, level, parent, code):
    region = Region(name=name, level=level, parent_id=parent.id if parent else None, code=code)
    db.session.add(region)
    db.session.flush()
    region.path = (parent.path if parent else "/") + f"{region.id}/"
    return region


def _staff(providers, communities, streets, district):
    def make(username, role, display_name, **scope):
        return create_user(username=username, password=DEMO_PASSWORD, role=role, by=None,
                           display_name=display_name, **scope)

    make("admin", "admin", "系统管理员")
    supervisor1 = make("supervisor1", "supervisor", "民政局 督查员 周敏", region_id=district.id)
    make("supervisor2", "supervisor", "长青街道 督查员 吴静", region_id=streets[0].id)
    caregivers = [make(f"caregiver{i:02d}", "caregiver", f"护理员{SURNAMES[i]}{GIVEN[i % len(GIVEN)]}",
                       provider_id=providers[0 if i <= 15 else 1].id,
                       certificate_no=None if i in UNCERTIFIED else f"YL2023{i:06d}",
                       skill_level=1 + i % 4)
                  for i in range(1, 31)]
    workers = []
    for i in range(1, 11):
        # Workers 01 and 02 each look after two communities; the rest one each.
        mine = communities[(i - 1) * 2:(i - 1) * 2 + 2] if i <= 2 else [communities[i + 1]]
        workers.append(make(f"worker{i:02d}", "community_worker", f"网格员{SURNAMES[-i]}{GIVEN[-i]}",
                            community_ids=[c.id for c in mine]))
    managers = [make(f"manager{n}", "provider_manager", display_name, provider_id=provider.id)
                for n, (provider, display_name) in enumerate(zip(providers, MANAGER_NAMES, strict=True), start=1)]
    return {"caregivers": caregivers, "workers": workers, "supervisor1": supervisor1, "managers": managers}


def _second_district(city, providers):
    """白山区 and its people: a district supervisor, the city's supervisor (who sees both districts),
    two caregivers of each provider and a community worker for each community."""
    communities, _, district = _regions(city, SECOND_DISTRICT, SECOND_STREETS)

    def make(username, role, display_name, **scope):
        return create_user(username=username, password=DEMO_PASSWORD, role=role, by=None,
                           display_name=display_name, **scope)

    city_supervisor = make("city_supervisor", "supervisor", "市民政局 督查员 郑文", region_id=city.id)
    make("supervisor3", "supervisor", "白山区民政局 督查员 秦岚", region_id=district.id)
    caregivers = [make(f"caregiver{i}", "caregiver", f"护理员{SURNAMES[i]}{GIVEN[i % len(GIVEN)]}",
                       provider_id=providers[i % 2].id, certificate_no=f"YL2024{i:06d}", skill_level=1 + i % 4)
                  for i in range(31, 35)]
    workers = [make(f"worker{i}", "community_worker", f"网格员{SURNAMES[-i]}{GIVEN[-i % len(GIVEN)]}",
                    community_ids=[community.id]) for i, community in enumerate(communities, start=11)]
    return {"communities": communities, "caregivers": caregivers, "workers": workers,
            "city_supervisor": city_supervisor}


def _elders(rng, communities, today, district=DISTRICT, count=300):
    elders = []
    for n in range(count):
        community = communities[n % len(communities)]
        age = rng.choice([62, 66, 70, 73, 76, 79, 81, 84, 87, 90, 93])
        categories = set(rng.sample(["solitary", "empty_nest", "left_behind", "special_family", "low_income",
                                     "extreme_poverty", "disabled"], k=rng.choice([0, 1, 1, 2, 2, 3])))
        if age >= 80:
            categories.add("advanced_age")
        birth = date(today.year - age, rng.randint(1, 12), rng.randint(1, 28))
        gender = rng.choice(["male", "female"])
        risky = {"solitary", "disabled"} <= categories or ("solitary" in categories and age >= 80)
        tier = "high" if risky else "key" if categories & {"solitary", "empty_nest", "left_behind",
                                                            "special_family", "disabled"} else "general"
        elder = Elder(
            name=rng.choice(SURNAMES) + rng.choice(GIVEN), gender=gender, birth_on=birth,
            id_card_no=_id_card(rng, birth, gender, n, district[1]), phone=f"13{rng.randint(100000000, 999999999)}",
            address=f"{district[0]}{community.name}{rng.choice(ROADS)}{rng.randint(1, 120)}号{rng.randint(1, 6)}单元"
                    f"{rng.randint(1, 7)}0{rng.randint(1, 4)}室",
            lat=district[2] + rng.uniform(-0.05, 0.05), lon=district[3] + rng.uniform(-0.05, 0.05),
            community_id=community.id, risk_tier=tier,
            care_notes=rng.choice(CARE_NOTES),
            emergency_contacts=[{"name": rng.choice(SURNAMES) + rng.choice(GIVEN), "relation": "子女",
                                 "phone": f"15{rng.randint(100000000, 999999999)}"}],
        )
        elder.categories = sorted(categories)
        db.session.add(elder)
        elders.append(elder)
    db.session.flush()
    for elder in elders:
        frail = "disabled" in elder.categories
        scores = {"self_care": rng.randint(6, 20) if frail else rng.randint(20, 32),
                  "motion": rng.randint(2, 9) if frail else rng.randint(9, 15),
                  "mental": rng.randint(10, 28), "perception": rng.randint(5, 15)}
        events = rng.choice([0, 0, 0, 1, 2])
        total, level = capability_level(**scores, care_risk_events_30d=events)
        db.session.add(Assessment(elder_id=elder.id, assessed_on=today - timedelta(days=rng.randint(10, 200)),
                                  total=total, level=level, care_risk_events_30d=events, **scores))
    return elders


def _quarterly(elders, supervisor, today, at):
    """Every other empty-nest or left-behind elder under 80 who is neither solitary nor disabled
    is set to the general tier by the district's supervisor, with the reason: patrolled quarterly,
    so their coverage is judged on the quarter."""
    candidates = [e for e in elders if set(e.categories) & {"empty_nest", "left_behind"}
                  and not set(e.categories) & {"solitary", "disabled", "special_family"}
                  and risk.age_on(e.birth_on, today) < risk.ADVANCED_AGE]
    for elder in candidates[::2]:
        risk.set_risk_tier(elder, "general", "子女同城、每周探望：按季度巡访", version=None, by=supervisor,
                           now=at)


def _id_card(rng, birth: date, gender: str, n: int, area: str = DISTRICT[1]) -> str:
    """A well-formed 18-digit resident ID (GB 11643 check digit) for demo data."""
    body = f"{area[:6]}{birth:%Y%m%d}{n % 100:02d}{(rng.randint(0, 4) * 2 + (1 if gender == 'male' else 0))}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def _plans(rng, elders, providers, staff, starts_on, today, revised_at):
    caregivers, workers = staff["caregivers"], staff["workers"]
    worker_of = {c.id: w for w in workers for c in w.communities}
    for n, elder in enumerate(elders):
        if n % 5 < 2 or "disabled" in elder.categories:  # about half the elders have a family bed
            provider = providers[n % 2]
            team = [c for c in caregivers if c.provider_id == provider.id]
            plan = CarePlan(elder_id=elder.id, provider_id=provider.id, starts_on=starts_on,
                            ends_on=today + timedelta(days=335), revised_at=revised_at)
            for service, recurrence, minutes in rng.sample(CARE_PACKAGES, k=rng.choice([1, 2, 2, 3])):
                plan.items.append(CarePlanItem(service_type=service, recurrence=recurrence,
                                               min_duration_minutes=minutes, assignee_id=rng.choice(team).id))
            db.session.add(plan)
        if set(elder.categories) & {"solitary", "empty_nest", "left_behind", "special_family", "disabled"}:
            db.session.add(PatrolPlan(elder_id=elder.id, worker_id=worker_of[elder.community_id].id,
                                      starts_on=starts_on, revised_at=revised_at,
                                      modes=["door", "phone"]))
