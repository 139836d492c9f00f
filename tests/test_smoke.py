def test_login_then_list_own_tasks(client, city, login):
    headers = login(city.caregiver)
    response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["items"] == []


def test_the_scheduler_lists_every_job_once(app):
    from backend.scheduler import build_scheduler

    ids = sorted(job.id for job in build_scheduler(app).get_jobs())
    assert ids == ["close_ended_plans", "deliver_notifications", "escalate_followups", "generate_tasks",
                   "sweep", "worker_patterns"]
