"""The API's flows by firm: ``GET /v1/plans/{id}/flows?firm=…`` and ``/sankey?by=firm``."""

from __future__ import annotations

from api_support import BUNDLED, assert_problem

from flowopt.results import Plan
from flowopt.sankey import sankey_data


def test_flows_can_be_filtered_by_firm_and_the_sankey_starts_at_firms(solver_client):
    r = solver_client.post("/v1/plans", json={"scenario_id": BUNDLED})
    assert r.status_code in (200, 201), r.text
    plan = Plan.model_validate(r.json())
    url = r.headers["location"]
    # F05 (Haorun) generates W05 and shares R05's residue with F01
    page = solver_client.get(url + "/flows", params={"firm": "F05", "limit": 2}).json()
    want = [f.model_dump(mode="json") for f in plan.flows if f.firm == "F05" or "F05" in f.firm_shares]
    assert page["total"] == len(want) >= 2
    assert page["items"] == want[:2]
    assert page["next"] is None or "&firm=F05" in page["next"]
    rest = solver_client.get(page["next"]).json() if page["next"] else {"items": []}
    assert page["items"] + rest["items"] == want
    assert {f["stream"] for f in want} == {"W05", "W13"}
    assert solver_client.get(url + "/flows", params={"firm": "F99"}).json()["total"] == 0
    assert_problem(solver_client.get(url + "/flows", params={"firm": "not a firm"}), 422, "input_invalid")
    for lang in ("en", "zh"):
        sk = solver_client.get(url + "/sankey", params={"lang": lang, "by": "firm"}).json()
        assert sk == sankey_data(plan, lang=lang, by="firm")
        assert any(n["kind"] == "firm" for n in sk["nodes"])
    assert solver_client.get(url + "/sankey").json() == sankey_data(plan)
    assert_problem(solver_client.get(url + "/sankey", params={"by": "site"}), 422, "input_invalid")
