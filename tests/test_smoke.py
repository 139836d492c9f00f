def test_login_then_list_own_tasks(client, city, login):
    headers = login(city.caregiver)
    response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["items"] == []


def test_the_scheduler_lists_every_job_once(app):
    from backend.scheduler import build_scheduler

    ids = sorted(job.id for job in build_scheduler(app).get_jobs())
    assert ids == ["advanced_age", "close_ended_plans", "crosscheck_visits", "deliver_notifications",
                   "escalate_followups", "generate_tasks", "partition_ahead", "resume_returned_elders", "sweep",
                   "worker_patterns"]


def test_the_scheduler_logs_each_job_by_its_own_name(app):
    from backend.scheduler import build_scheduler

    names = sorted(job.name for job in build_scheduler(app).get_jobs())
    assert names == ["advanced_age_job", "close_ended_plans_job", "crosscheck_job", "delivery_job",
                     "escalation_job", "generate_tasks_job", "partition_ahead_job", "resume_returned_job", "sweep_job",
                     "worker_pattern_job"]


def test_the_bare_address_leads_to_the_console_and_it_has_an_icon(client):
    root = client.get("/")
    assert root.status_code == 302 and root.headers["Location"].endswith("/console/")
    with client.get("/favicon.ico", follow_redirects=True) as icon:  # a file response: closed after
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
