"""The admin driven as a browser does: the login form, then forms and actions posted with
the CSRF token from the cookie (the test client enforces CSRF here, as a browser meets it)."""

from __future__ import annotations

import pytest
from django.test import Client

from demo.factories import PASSWORD


class StaffBrowser:
    def __init__(self, client: Client):
        self.client = client

    @property
    def csrf(self) -> str:
        return self.client.cookies["csrftoken"].value

    def get(self, path, data=None, **kwargs):
        return self.client.get(path, data, **kwargs)

    def post(self, path, data=None, **kwargs):
        return self.client.post(path, {**(data or {}), "csrfmiddlewaretoken": self.csrf}, **kwargs)

    def action(self, changelist: str, action: str, ids, *, confirm: bool = True, **fields):
        """Select rows, pick the action, and (as staff do) answer its confirmation page."""
        selection = {"action": action, "_selected_action": [str(i) for i in ids], "index": "0"}
        page = self.post(changelist, selection)
        assert page.status_code == 200, page.status_code
        assert b'name="post" value="yes"' in page.content, "the action asks for confirmation first"
        if not confirm:
            return page
        return self.post(changelist, {**selection, "post": "yes", **fields}, follow=True)


def login(email: str, password: str = PASSWORD, client: Client | None = None):
    client = client or Client(enforce_csrf_checks=True)
    client.get("/admin/login/")
    token = client.cookies["csrftoken"].value
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": password, "csrfmiddlewaretoken": token, "next": "/admin/"},
    ), client


@pytest.fixture
def staff(admin_user) -> StaffBrowser:
    response, client = login(admin_user.email)
    assert response.status_code == 302, response.content[:500]
    return StaffBrowser(client)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []
