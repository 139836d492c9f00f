"""Console sign-in: supervisors and admins only, CSRF-protected, Chinese by default."""


def test_a_supervisor_signs_in_and_sees_the_console_in_chinese(console, city):
    response = console.sign_in(city.supervisor_a)
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/")
    home = console.get("/console/")
    text = home.get_data(as_text=True)
    assert home.status_code == 200 and "管辖范围" in text and city.street_a.name in text
    assert 'lang="zh-CN"' in text


def test_english_is_one_click_away_and_remembered(console, city):
    console.sign_in(city.supervisor_a)
    english = console.get("/console/?lang=en").get_data(as_text=True)
    assert "Scope" in english and 'lang="en"' in english
    assert "Scope" in console.get("/console/").get_data(as_text=True)  # the cookie keeps it


def test_a_caregiver_cannot_use_the_console(console, city):
    response = console.sign_in(city.caregiver)
    assert response.status_code == 403
    assert console.get("/console/").status_code == 302  # back to sign-in


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(console, city):
    response = console.sign_in(city.supervisor_a, password="not-the-password")
    assert response.status_code == 401 and "用户名或密码错误" in response.get_data(as_text=True)


def test_a_post_without_the_csrf_token_is_refused(console, city):
    console.get("/console/login")
    response = console.client.post("/console/login", data={"username": city.admin.username, "password": "x"})
    assert response.status_code == 400


def test_pages_need_a_signed_in_user(console):
    response = console.get("/console/")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_signing_out_ends_the_session(console, city):
    console.sign_in(city.admin)
    console.get("/console/")
    assert console.post("/console/logout").status_code == 302
    assert console.get("/console/").status_code == 302


def test_a_next_parameter_cannot_redirect_off_the_console(console, city):
    console.get("/console/login")
    response = console.post("/console/login", {"username": city.admin.username,
                                               "password": "correct-horse-battery", "next": "https://evil.example/"})
    assert response.headers["Location"].endswith("/console/")


def test_the_console_sends_protective_headers(console):
    headers = console.get("/console/login").headers
    assert headers["X-Frame-Options"] == "DENY" and "default-src 'self'" in headers["Content-Security-Policy"]
