"""Every console page, as its markup: a label for each field, scoped header cells, no inline style
or script (the CSP forbids them), announcements with the right roles."""

from html.parser import HTMLParser

import pytest

from backend.clock import local_today


class Page(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.fields, self.labels, self.headers, self.problems = [], set(), [], []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "style" in a:
            self.problems.append(f"style attribute on <{tag}>")
        if tag == "script" and "src" not in a:
            self.problems.append("inline script")
        if tag == "label" and "for" in a:
            self.labels.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.fields.append(a.get("id"))
        if tag == "th":
            self.headers.append(a.get("scope"))

    def unlabelled(self):
        return [field for field in self.fields if field is None or field not in self.labels]


def pages(w):
    return ["/console/", "/console/visits", f"/console/visits/{w.a1_unverified.id}", "/console/reviews",
            "/console/followups", f"/console/followups/{w.a2_followup.id}", "/console/callbacks",
            "/console/reports/monthly", "/console/elders", f"/console/elders/{w.elder_a1.id}"]


@pytest.mark.parametrize("who", ["admin", "supervisor_a"])
def test_every_page_labels_its_fields_and_scopes_its_headers(ward, as_user, who):
    console = as_user(getattr(ward, who))
    for path in pages(ward):
        page = Page(console.text(path))
        assert page.unlabelled() == [], path
        assert None not in page.headers, path
        assert page.problems == [], path


def test_the_login_page_is_labelled_too(console):
    assert Page(console.text("/console/login")).unlabelled() == []


def test_a_flash_is_a_status_and_a_problem_an_alert(ward, as_user, clock):
    console = as_user(ward.supervisor_a)
    console.get("/console/callbacks")
    console.post("/console/callbacks/draw", {"month": local_today(clock()).strftime("%Y-%m")})  # not ended
    html = console.text("/console/callbacks")
    assert '<div class="flash error-box" role="alert">' in html
    console.get(f"/console/followups/{ward.a2_followup.id}")
    console.post(f"/console/followups/{ward.a2_followup.id}/claim", {"version": 1})
    assert '<div class="flash" role="status">' in console.text(f"/console/followups/{ward.a2_followup.id}")


def test_every_page_is_in_the_navigation(ward, as_user):
    html = as_user(ward.supervisor_a).text("/console/")
    nav = html.split('<nav aria-label="主导航">')[1].split("</nav>")[0]
    for path in ("/console/visits", "/console/reviews", "/console/followups", "/console/callbacks",
                 "/console/reports/monthly", "/console/elders"):
        assert f'href="{path}"' in nav
