"""The enterprise compliance list filtered by team (issue 10): API items and totals, the
workbook equal to the filtered page, the page's team select, and bad input."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from openpyxl import load_workbook

from app.accounts.models import Role
from app.oversight import generator
from tests import factories as f


@pytest.fixture
def world(db):
    ent_a = f.enterprise(db, region="140105", name="Alpha Colliery")
    ent_b = f.enterprise(db, region="140202", name="Datong Colliery")
    loner = f.worker(db, ent_a, full_name="王守矿")  # no team
    generator.generate(db=db, workers=60, seed=7, enterprise_ids=[ent_a.id, ent_b.id])
    outsider = f.worker(db, ent_b, full_name="外队人")
    outsider.team = "外矿专属队"  # another enterprise's team is never offered here
    f.user(db, Role.REGULATOR, username="reg14", region_code="14")
    f.user(db, Role.ENTERPRISE_ADMIN, username="a.admin", enterprise_id=ent_a.id)
    db.commit()
    return {"a": ent_a.id, "loner": loner.id}


def _all(client, auth, url, **params):
    body = client.get(url, params={**params, "page_size": 200}, headers=auth).json()
    assert len(body["items"]) == body["total"]
    return body


def test_team_filter_items_total_and_unchanged_totals(client, world):
    url = f"/api/v1/enterprises/{world['a']}/compliance"
    auth = f.token(client, "a.admin")
    everyone = _all(client, auth, url)
    teams = Counter(i["team"] for i in everyone["items"])
    assert teams[None] == 1 and len(teams) > 3  # the generator spreads workers over teams
    assert next(i for i in everyone["items"] if i["worker_id"] == world["loner"])["team"] is None
    for team, count in teams.items():
        if team is None:
            continue
        body = _all(client, auth, url, team=team, sort="name")
        assert body["total"] == count
        assert {i["team"] for i in body["items"]} == {team}
        assert [i["full_name"] for i in body["items"]] == sorted(
            i["full_name"] for i in body["items"])
        # the totals stay those of every worker; only the rows are filtered
        assert body["totals"] == everyone["totals"]
    # team and status together: exactly the rows with both
    team, _count = next(t for t in teams.most_common() if t[0] is not None)
    status = next(i["status"] for i in everyone["items"] if i["team"] == team)
    both = _all(client, auth, url, team=team, status=status)
    assert sorted(i["worker_id"] for i in both["items"]) == sorted(
        i["worker_id"] for i in everyone["items"] if i["team"] == team and i["status"] == status)


def test_workbook_is_the_filtered_page(client, world):
    url = f"/api/v1/enterprises/{world['a']}/compliance"
    auth = f.token(client, "reg14")
    team = next(i["team"] for i in _all(client, auth, url)["items"] if i["team"])
    shown = _all(client, auth, url, team=team, sort="-credited_hours")
    response = client.get(url + ".xlsx", params={"team": team, "sort": "-credited_hours"},
                          headers=auth)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    header, *rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert header[3] == "Team"
    assert [(r[0], r[3], r[7], r[-1]) for r in rows] == [
        (i["worker_id"], i["team"], i["credited_hours"], i["status"]) for i in shown["items"]]
    # sorted by team: teamless workers sort together, each team's rows in one run
    by_team = _all(client, auth, url, sort="team")
    runs = [i["team"] for i in by_team["items"]]
    assert len({t for t in runs}) == sum(1 for n, t in enumerate(runs) if n == 0
                                         or t != runs[n - 1])


def test_a_team_nobody_is_in_matches_no_one_and_a_too_long_one_is_refused(client, world):
    url = f"/api/v1/enterprises/{world['a']}/compliance"
    auth = f.token(client, "a.admin")
    body = client.get(url, params={"team": "外矿专属队"}, headers=auth).json()
    assert body["total"] == 0 and body["items"] == [] and body["totals"]["workers"] == 31
    for path in ("", ".xlsx"):
        refused = client.get(url + path, params={"team": "队" * 61}, headers=auth)
        assert refused.status_code == 422
        assert refused.headers["content-type"].startswith("application/problem+json")
    # blank means any team (what the form sends when nothing is chosen)
    assert client.get(url, params={"team": " "}, headers=auth).json()["total"] == 31


def test_page_offers_the_enterprises_teams_and_filters_by_one(client, world):
    url = f"/api/v1/enterprises/{world['a']}/compliance"
    items = _all(client, f.token(client, "a.admin"), url)["items"]
    teams = sorted({i["team"] for i in items if i["team"]})
    f.login(client, "a.admin")
    page = client.get(f"/enterprises/{world['a']}/compliance")
    assert page.status_code == 200
    for team in teams:
        assert f'<option value="{team}" >{team}</option>' in page.text
    assert "外矿专属队" not in page.text
    team = teams[0]
    filtered = client.get(f"/enterprises/{world['a']}/compliance",
                          params={"team": team, "page_size": 200})
    assert f'<option value="{team}" selected>{team}</option>' in filtered.text
    count = sum(1 for i in items if i["team"] == team)
    assert filtered.text.count(f"<td>{team}</td>") == count
    # the export link carries the filter, so the download is what is shown
    assert "team=" in filtered.text.split("Download as Excel")[0]
