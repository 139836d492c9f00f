def test_login_then_list_own_tasks(client, city, login):
    headers = login(city.caregiver)
    response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["items"] == []
