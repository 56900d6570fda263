"""Swagger UI renders in a real browser with every asset from our own server."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_with_no_external_request(live_server, browser):
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/api/docs/")
    title = browser.find_element(By.CSS_SELECTOR, ".swagger-ui .info .title")
    assert "WeMoov API" in title.text
    assert browser.find_elements(By.CSS_SELECTOR, ".opblock-tag")  # the operations are listed
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])"
    )
    assert resources
    external = [url for url in resources if not url.startswith(live_server.url)]
    assert external == []
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
