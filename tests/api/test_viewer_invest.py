"""The viewer's investment panel (issue 12, item 6): built and not-built projects, from the API's JSON.

``GET /viewer/investment`` answers what ``POST /v1/investments`` answers for the bundled
investment scenario (a read: no key); the panel, in headless Chromium, shows every candidate as
built or not, with the numbers of that document.
"""

from __future__ import annotations

import json
import time

import pytest
from api_support import make_client
from test_viewer import (
    assert_clean,
    assert_not_blank,
    chromium_browser,
    needs_chromium,
    page_server,
    settled,
)

from flowopt.invest import default_invest_dir, solve_investment
from flowopt.io import load_scenario


def _answer(client, first):
    """The investment document behind a /viewer/investment response (following its job on 202)."""
    if first.status_code == 200:
        return first.json()
    assert first.status_code == 202, first.text
    url = first.headers["location"]
    deadline = time.monotonic() + 120
    while (job := client.get(url).json())["status"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    assert job["status"] == "succeeded", job
    return job["result"]


def test_viewer_investment_is_a_read_that_answers_the_investment_document(tmp_path):
    with make_client(tmp_path, read_requires_key=False) as c:
        del c.headers["X-API-Key"]  # a read: no key needed
        first = c.get("/viewer/investment")
        doc = _answer(c, first)
        lib = solve_investment(load_scenario(default_invest_dir()), gap=1e-4)
        assert doc["status"] == lib.status == "optimal"
        assert {b["id"]: (b["built"], round(b["size_t"])) for b in doc["builds"]} == {b.id: (b.built, round(b.size_t)) for b in lib.builds}
        assert doc["objective_cny"] == pytest.approx(lib.objective_cny, rel=1e-6)
        assert {"builds", "plan", "decision_values", "build_break_even", "mip_gap"} <= set(doc)
        # the same request again is served from storage
        again = c.get("/viewer/investment")
        assert again.status_code == 200 and again.json()["objective_cny"] == doc["objective_cny"]
        assert again.headers["location"] == first.headers["location"]
        assert c.get("/viewer/invest.js").headers["content-type"].startswith("text/javascript")


def test_viewer_investment_follows_the_read_rule(tmp_path):
    with make_client(tmp_path, warm_workers=False, read_requires_key=True) as c:
        del c.headers["X-API-Key"]
        assert c.get("/viewer/investment").json()["code"] == "api_key_missing"


@pytest.fixture(scope="module")
def invest_server(tmp_path_factory):
    with page_server(tmp_path_factory, "invest-viewer") as srv:
        yield srv


@pytest.fixture(scope="module")
def invest_browser(tmp_path_factory):
    with chromium_browser(tmp_path_factory, "chromium-invest") as chrome:
        yield chrome


@needs_chromium
def test_the_viewer_shows_built_and_not_built_projects(invest_server, invest_browser):
    page = invest_browser.new_page()
    page.goto(invest_server.url + "/")
    settled(page, "the base plan", "app.dataset.state === 'ready'")
    assert page.js("document.getElementById('invest-run').textContent") == "Show the least-cost build set"
    page.click("#invest-run")
    page.wait_for("!document.getElementById('invest-result').hidden", "the investment result", 180)
    shown = page.js("""(() => ({
      rows: Array.from(document.querySelectorAll('#invest-table tbody tr')).map(r => [r.dataset.candidate, r.dataset.built, r.querySelector('.invest-decision').textContent, r.innerText]),
      headline: document.getElementById('invest-headline').textContent, status: document.getElementById('invest-status').textContent}))()""")
    with invest_server.client(timeout=60) as c:
        del c.headers["X-API-Key"]
        r = c.get("/viewer/investment")
    assert r.status_code == 200, r.text
    doc = r.json()
    built = sorted(b["id"] for b in doc["builds"] if b["built"])
    assert built and [x[0] for x in shown["rows"] if x[1] == "true"] == built  # built first, by id
    assert sorted(x[0] for x in shown["rows"] if x[1] == "false") == sorted(b["id"] for b in doc["builds"] if not b["built"])
    assert all(x[2] == "built" for x in shown["rows"] if x[1] == "true") and all(x[2] in ("not built", "not available this year") for x in shown["rows"] if x[1] == "false")
    # the numbers of the document: size and capital of a built project, the break-even of one not built
    first = next(b for b in doc["builds"] if b["id"] == built[0])
    row = next(x[3] for x in shown["rows"] if x[0] == built[0])
    assert f"{first['capital_cny'] / 1e6:.1f} M CNY" in row
    evens = {e["id"]: e for e in doc["build_break_even"] if e["factor"] is not None}
    if evens:
        cid, e = next(iter(evens.items()))
        assert f"at most {e['factor'] * 100:.0f}%" in next(x[3] for x in shown["rows"] if x[0] == cid)
    assert shown["headline"].startswith("Least-cost build set for 70.0%") and "proven optimal" in shown["headline"]
    assert shown["status"] == ""
    polled = [e["response"]["url"] for e in page.events("Network.responseReceived") if "/v1/jobs/" in e["response"]["url"]]
    assert polled, "the page did not follow the investment job"
    assert_not_blank(page.screenshot("viewer-invest-en.png"))
    page.click("#lang-zh")
    page.wait_for("document.getElementById('invest-headline').textContent.indexOf('最低成本建设方案') >= 0", "the Chinese investment panel", 20)
    assert page.js("document.querySelector('#invest-table tbody tr.built .invest-decision').textContent") == "建设"
    assert json.loads(page.js("JSON.stringify(Array.from(document.querySelectorAll('#invest-table th')).map(h => h.textContent))"))[0] == "项目"
    assert_clean(page, invest_server)
    assert page.js("localStorage.getItem('flowopt.apiKey')") is None  # a read: no key was needed
