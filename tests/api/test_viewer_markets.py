"""The viewer's "Markets, incentives and duties" panel (issue 15): the plan's JSON, shown.

The panel renders ``markets``, ``incentives_cny`` and ``firm_targets`` of the plan the page
shows (the base plan, then each what-if). In headless Chromium (the helpers of
``test_viewer.py``): the bundled park's markets row by row with the tonnes of the plan JSON the
API serves, the incentives line, the Chinese texts; then a what-if that gives two firms a
minimum rate, whose duty rows (one binding, with its price per point) replace the empty part.
The page has no control for a firm's duty, so that test adds the two changes to the page's own
``POST /v1/whatifs`` request (a wrapper around ``fetch`` installed before the page's scripts):
the server solves the what-if, the page follows its job and renders the answer as it renders
any what-if. Expected strings are computed from the plan JSON with the page's number rules
(:func:`fixed`, :func:`grouped`, :func:`money_en`), not written down.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from api_support import KEY, Server
from test_viewer import (
    Chromium,
    Page,
    assert_clean,
    assert_not_blank,
    chromium_browser,
    needs_chromium,
    page_server,
    settled,
)

STATIC = Path(__file__).resolve().parents[2] / "api" / "static"
MINUS = "\u2212"

#: Two firms' duties added to every what-if the page sends: F01 (52 % in the bundled plan)
#: must reach 60 %, which binds; F05 (100 %) at least 50 %, which does not.
DUTIES = [{"set": "firms.F01.target_rate", "value": 0.6}, {"set": "firms.F05.target_rate", "value": 0.5}]
DUTY_HOOK = """(() => {
  const send = window.fetch.bind(window);
  window.fetch = (url, opts) => {
    if (String(url).endsWith('/v1/whatifs') && opts && opts.body) {
      const body = JSON.parse(opts.body);
      body.changes = body.changes.concat(%s);
      opts = Object.assign({}, opts, {body: JSON.stringify(body)});
    }
    return send(url, opts);
  };
})();""" % json.dumps(DUTIES)  # noqa: UP031 (the JavaScript's braces would need doubling in an f-string)

#: What the page shows of the panel: rows of both tables (data attributes and cell texts), the
#: incentives line, the heading and captions.
PANEL_JS = """(() => {
  const rows = sel => Array.from(document.querySelectorAll(sel)).map(r => ({
    data: Object.assign({}, r.dataset), name: r.querySelector('th span').textContent,
    cells: Array.from(r.querySelectorAll('td')).map(c => c.textContent), text: r.innerText}));
  const inc = document.getElementById('incentives');
  return {
    hidden: document.getElementById('markets').hidden,
    title: document.getElementById('markets-title').textContent,
    captions: Array.from(document.querySelectorAll('#markets caption')).map(c => c.textContent),
    heads: Array.from(document.querySelectorAll('#markets-table thead th')).map(h => [h.textContent, h.scope]),
    rowScopes: Array.from(document.querySelectorAll('#markets tbody th')).map(h => h.scope),
    markets: rows('#markets-table tbody tr'), duties: rows('#duties tbody tr'),
    dutiesHtml: document.getElementById('duties').innerHTML,
    incHidden: inc.hidden, incText: inc.textContent, incTotal: inc.dataset.totalCny || null,
  };
})()"""


def fixed(x: float, digits: int) -> str:
    """``Number.prototype.toFixed``: the double's exact value rounded half up (``56.25`` -> ``56.3``)."""
    return str(Decimal(x).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def grouped(x: float, digits: int) -> str:
    """The page's ``group``: ``toLocaleString('en-US')`` (shortest decimal of the double, half up, commas)."""
    d = Decimal(repr(x)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{d:,.{digits}f}"


def pct(x: float, digits: int) -> str:
    """The page's ``pct``: ``70.00%``, with a minus sign below 0."""
    return (MINUS if x < 0 else "") + fixed(abs(x) * 100, digits) + "%"


def money_en(v: float, per_year: bool) -> str:
    """The page's ``money`` in English: ``14.38 M CNY/yr``, ``−332.3 M CNY/yr``, ``860,000 CNY/yr``."""
    a = abs(v)
    if a >= 1e9:
        s = grouped(a / 1e9, 2) + " bn CNY"
    elif a >= 1e6:
        s = grouped(a / 1e6, 1 if a >= 1e8 else 2) + " M CNY"
    else:
        s = grouped(a, 0) + " CNY"
    return (MINUS if v < 0 else "") + s + ("/yr" if per_year else "")


def tonnes(v: float) -> str:
    """Tonnes as the panel writes them (whole tonnes with commas)."""
    return grouped(v, 0)


@pytest.fixture(scope="module")
def markets_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``flowopt serve`` with keys for writes, one solver process, every new solve a job."""
    with page_server(tmp_path_factory, "markets-viewer") as srv:
        yield srv


@pytest.fixture(scope="module")
def markets_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    """The module's headless Chromium."""
    with chromium_browser(tmp_path_factory, "chromium-markets") as chrome:
        yield chrome


def stored_plan(server: Server, plan_id: str) -> dict[str, Any]:
    """The plan document the API serves for ``plan_id``."""
    with server.client(timeout=60) as c:
        r = c.get(f"/v1/plans/{plan_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def panel(page: Page) -> dict[str, Any]:
    """What the markets panel shows (see :data:`PANEL_JS`)."""
    return dict(page.js(PANEL_JS))


def check_markets_en(shown: dict[str, Any], plan: dict[str, Any]) -> None:
    """Every market of the plan, in its order, with the plan's numbers (English texts)."""
    markets = plan["markets"]
    assert [r["data"]["market"] for r in shown["markets"]] == [m["market"] for m in markets]
    for row, m in zip(shown["markets"], markets, strict=True):
        sold, limit, share, tier, demand = row["cells"]
        assert float(row["data"]["soldT"]) == m["sold_t"]
        assert sold == tonnes(m["sold_t"]), (row, m)
        assert row["name"] == m["name_en"]
        if m["limit_t"] is None:
            assert (limit, share, demand) == ("unlimited", "–", "–"), row
        else:
            assert limit == tonnes(m["limit_t"]) and share == pct(m["sold_t"] / m["limit_t"], 1), row
        if m["tier_reached"]:
            assert tier == f"tier {m['tier_reached']} of {len(m['tiers'])} · {grouped(m['price_reached_cny_per_t'], 2)} CNY/t", row
        else:
            assert tier == ("nothing sold" if m["tiers"] else "no price tiers (each project's own revenue)"), row
        assert row["data"]["binds"] == str(m["binds"]).lower()
        if m["binds"]:
            assert demand.startswith(f"● full: shadow price {grouped(m['shadow_price_cny_per_t'], 2)} CNY/t (what one more t/yr of demand would save a year)"), row
            if m["valid_from_t"] is not None and m["valid_to_t"] is not None:
                assert f"holds for demand {tonnes(m['valid_from_t'])}–{tonnes(m['valid_to_t'])} t/yr" in demand, row
        elif m["limit_t"] is not None:
            assert demand == "room left", row


def check_incentives_en(shown: dict[str, Any], plan: dict[str, Any]) -> None:
    """The incentives line: total = VAT refund + income tax, the cost with and without them."""
    inc = plan["incentives_cny"]
    assert inc["applied"] and inc["total_cny"] > 0
    assert inc["vat_refund_cny"] + inc["income_tax_cny"] == pytest.approx(inc["total_cny"], rel=1e-9)
    assert inc["objective_without_cny"] == pytest.approx(plan["objective_cny"] + inc["total_cny"], rel=1e-9)
    assert not shown["incHidden"] and float(shown["incTotal"]) == inc["total_cny"]
    assert shown["incText"] == (
        f"Tax incentives: {money_en(inc['total_cny'], True)} = VAT refund {money_en(inc['vat_refund_cny'], False)}"
        f" + income-tax reduction {money_en(inc['income_tax_cny'], False)}."
        f" Plan cost {money_en(plan['objective_cny'], True)}; without the incentives {money_en(inc['objective_without_cny'], True)}."
    ), shown["incText"]


def test_the_panel_is_in_the_page_and_its_texts_in_both_languages():
    """Static: the section, its i18n keys in both TEXT tables, and the renderer called by render()."""
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    js = (STATIC / "viewer.js").read_text(encoding="utf-8")
    section = re.search(r'<section class="panel markets-panel" id="markets"[^>]*>(.*?)</section>', html, re.S)
    assert section and 'aria-labelledby="markets-title"' in section.group(0)
    for part in ('id="markets-table"', 'id="incentives"', 'id="duties"', 'data-i18n="marketsTitle"', 'data-i18n="marketsHint"'):
        assert part in section.group(1), part
    keys = ("marketsTitle", "marketsHint", "marketsCaption", "marketCols", "unlimited", "tierReached", "nothingSold", "noTiers", "marketFull", "marketRoom", "marketWorth", "marketRange",
            "incentivesOff", "incentives", "incentivesCost", "dutiesCaption", "dutyCols", "dutyBinds", "dutyMet", "dutyCost", "dutyRange")
    for key in keys:
        assert len(re.findall(rf"^      {key}: ", js, re.M)) == 2, f"{key} is not in both TEXT tables"
    render = re.search(r"function render\(\) \{(.*?)\n  \}", js, re.S)
    assert render and "renderMarkets();" in render.group(1)


@needs_chromium
def test_the_viewer_shows_every_market_and_the_incentives_of_the_plan(markets_server, markets_browser):
    page = markets_browser.new_page()
    page.goto(markets_server.url + "/?lang=en")
    base = settled(page, "the base plan", "app.dataset.state === 'ready'", timeout=90)
    assert base["error"] is None, base
    plan = stored_plan(markets_server, base["planId"])
    assert plan["markets"] and any(m["binds"] for m in plan["markets"]) and any(m["limit_t"] is None for m in plan["markets"])
    shown = panel(page)
    assert not shown["hidden"] and shown["title"] == "Markets, incentives and duties"
    assert shown["captions"] == ["Product markets (tonnes of product per year)"]  # no duties: no second table
    assert [h[0] for h in shown["heads"]][:2] == ["Product", "Sold, t/yr"] and all(h[1] == "col" for h in shown["heads"])
    assert shown["rowScopes"] and all(s == "row" for s in shown["rowScopes"])
    check_markets_en(shown, plan)
    check_incentives_en(shown, plan)
    assert plan["firm_targets"] == [] and shown["duties"] == [] and shown["dutiesHtml"] == ""
    assert_not_blank(page.screenshot("viewer-markets-en.png"))

    page.click("#lang-zh")
    page.wait_for("document.getElementById('markets-title').textContent === '产品市场、优惠政策与企业责任'", "the Chinese panel")
    zh = panel(page)
    assert zh["captions"] == ["产品市场（吨/年产品）"]
    assert [r["name"] for r in zh["markets"]] == [m["name_zh"] for m in plan["markets"]]
    assert [r["cells"][0] for r in zh["markets"]] == [tonnes(m["sold_t"]) for m in plan["markets"]]
    for row, m in zip(zh["markets"], plan["markets"], strict=True):
        if m["binds"]:
            assert row["cells"][4].startswith("● 已饱和：需求每增加 1 吨/年，年成本节约 " + grouped(m["shadow_price_cny_per_t"], 2) + " 元"), row
        if m["limit_t"] is None:
            assert row["cells"][1] == "不限"
    assert zh["incText"].startswith("税收优惠：") and "增值税即征即退" in zh["incText"]
    assert_clean(page, markets_server)


@needs_chromium
def test_a_whatif_with_firms_duties_shows_the_duty_rows(markets_server, markets_browser):
    page = markets_browser.new_page()
    page.send("Page.addScriptToEvaluateOnNewDocument", {"source": DUTY_HOOK})
    page.goto(markets_server.url + "/?lang=en")
    page.js(f"localStorage.setItem('flowopt.apiKey', {json.dumps(KEY)})")  # what-ifs are writes
    page.goto(markets_server.url + "/?lang=en")
    base = settled(page, "the base plan", "app.dataset.state === 'ready'", timeout=90)
    assert base["error"] is None and panel(page)["duties"] == []

    # one step of the target slider (70 % -> 70.5 %): a what-if, with the two duties added
    page.js("document.getElementById('target').focus()")
    page.key("ArrowRight")
    moved = settled(page, "the what-if with firms' duties", "app.dataset.target === '0.705' && app.dataset.state === 'ready'", timeout=90)
    assert moved["error"] is None and moved["planId"] != base["planId"], moved
    sent = [json.loads(e["request"].get("postData", "{}")) for e in page.events("Network.requestWillBeSent") if e["request"]["url"].endswith("/v1/whatifs")]
    assert sent and sent[-1]["changes"] == DUTIES and sent[-1]["target"] == 0.705, sent
    plan = stored_plan(markets_server, moved["planId"])
    duties = plan["firm_targets"]
    assert [d["firm"] for d in duties] == ["F01", "F05"]
    assert [d["binds"] for d in duties] == [True, False] and duties[0]["cny_per_point"] > 0

    shown = panel(page)
    assert shown["captions"] == ["Product markets (tonnes of product per year)", "Firms' duties (主体责任): each firm's own rate by its ledger"]
    assert [r["data"]["firm"] for r in shown["duties"]] == [d["firm"] for d in duties]
    for row, d in zip(shown["duties"], duties, strict=True):
        minimum, reached, delivered, base_t, state = row["cells"]
        assert row["name"] == d["name_en"] and float(row["data"]["rate"]) == d["rate"]
        assert minimum == pct(d["target_rate"], 1) and reached == pct(d["rate"], 2)
        assert delivered == tonnes(d["delivered_t"]) and base_t == tonnes(d["generated_t"] + d["prior_t"])
        if d["binds"]:
            expected = f"● binds: one more point costs {money_en(d['cny_per_point'], True)}"
            if d["valid_from"] is not None and d["valid_to"] is not None:
                expected += f"; holds for duties {pct(d['valid_from'], 2)}–{pct(d['valid_to'], 2)}"
            assert state == expected, row
        else:
            assert state == "met, does not bind", row
    # the markets and the incentives line follow the what-if plan too
    check_markets_en(shown, plan)
    check_incentives_en(shown, plan)
    assert_not_blank(page.screenshot("viewer-duties-en.png"))

    page.click("#lang-zh")
    page.wait_for("document.getElementById('markets-title').textContent === '产品市场、优惠政策与企业责任'", "the Chinese panel")
    zh = panel(page)
    assert zh["captions"][1] == "企业主体责任目标（按企业台账口径）"
    assert zh["duties"][0]["name"] == duties[0]["name_zh"] and zh["duties"][0]["cells"][4].startswith("● 起约束作用：目标每提高 1 个百分点，园区年成本增加 ")
    assert zh["duties"][1]["cells"][4] == "已达到，不起约束作用"
    assert_not_blank(page.screenshot("viewer-duties-zh.png"))

    # back to the base plan: no duties, so no duties table and no caption for it
    page.click("#reset")
    back = settled(page, "the base plan again", f"app.dataset.planId === {json.dumps(base['planId'])}")
    assert back["error"] is None
    again = panel(page)
    assert again["duties"] == [] and again["dutiesHtml"] == "" and again["captions"] == ["产品市场（吨/年产品）"]
    assert_clean(page, markets_server)
