"""The recommender service in process (embedded mode: memory cache and history): lists, cold start, plays."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.recommender.serving_support import item_ids, serving, settings

pytestmark = pytest.mark.integration


async def test_a_new_user_gets_the_popular_items(served_models: Path) -> None:
    """Cold start: no plays, no factor, so the list is the popularity list, marked as such."""
    async with serving(settings(served_models)) as (_app, client):
        recs = (await client.get("/users/999999/recommendations?k=5")).json()
        popular = (await client.get("/popular?k=5")).json()
    assert recs["source"] == "popular"
    assert item_ids(recs) == item_ids(popular)


async def test_a_new_user_naming_items_is_folded_in_from_them(served_models: Path) -> None:
    """?seed_items= folds a temporary user in: a personal list that leaves out the named items."""
    async with serving(settings(served_models)) as (_app, client):
        response = await client.get("/users/999999/recommendations?k=10&seed_items=1,2,3")
    body = response.json()
    assert response.status_code == 200
    assert body["source"] == "seed_items"
    assert len(body["items"]) == 10
    assert not {"1", "2", "3"} & set(item_ids(body))


async def test_a_known_users_list_leaves_out_what_they_played(served_models: Path) -> None:
    """Played items are excluded: the list is made of items outside the user's history."""
    async with serving(settings(served_models)) as (app, client):
        engine = app.state.recommender.holder.engine
        played = {str(engine.item_ids[i]) for i in engine.history("1")[0]}
        body = (await client.get("/users/1/recommendations?k=20")).json()
    assert body["source"] == "model"
    assert len(body["items"]) == 20
    assert not played & set(item_ids(body))


async def test_a_play_invalidates_the_cached_list_and_removes_the_item(served_models: Path) -> None:
    """The second read is a hit; a play invalidates it and folds the user in: the new list lacks the item."""
    async with serving(settings(served_models)) as (_app, client):
        first = await client.get("/users/2/recommendations?k=10")
        again = await client.get("/users/2/recommendations?k=10")
        top = item_ids(first.json())[0]
        recorded = await client.post("/users/2/plays", json={"plays": [{"item_id": top, "count": 3}]})
        after = await client.get("/users/2/recommendations?k=10")
    assert (first.headers["x-cache"], again.headers["x-cache"]) == ("miss", "hit")
    assert recorded.status_code == 200
    assert recorded.json()["generation"] == 1
    assert after.headers["x-cache"] == "hit"  # computed by the POST under the new generation
    assert top not in item_ids(after.json())
    assert item_ids(after.json()) != item_ids(first.json())


async def test_the_same_event_id_counts_once(served_models: Path) -> None:
    """A client retrying a POST with its event_id gets duplicate=true and the generation does not move."""
    body = {"plays": [{"item_id": "7"}], "event_id": "retry-1"}
    async with serving(settings(served_models)) as (_app, client):
        first = (await client.post("/users/3/plays", json=body)).json()
        second = (await client.post("/users/3/plays", json=body)).json()
    assert (first["duplicate"], second["duplicate"]) == (False, True)
    assert first["generation"] == second["generation"] == 1


async def test_explain_names_played_items_behind_a_score(served_models: Path) -> None:
    """The explanation's contributions come from the user's own history."""
    async with serving(settings(served_models)) as (app, client):
        engine = app.state.recommender.holder.engine
        played = {str(engine.item_ids[i]) for i in engine.history("1")[0]}
        top = item_ids((await client.get("/users/1/recommendations?k=1")).json())[0]
        body = (await client.get(f"/users/1/recommendations/{top}/explain")).json()
    assert body["because"]
    assert {c["item_id"] for c in body["because"]} <= played


async def test_similar_items_exclude_the_item_itself(served_models: Path) -> None:
    async with serving(settings(served_models)) as (_app, client):
        body = (await client.get("/items/10/similar?k=5")).json()
    assert len(body["items"]) == 5
    assert "10" not in item_ids(body)


BAD_INPUT = pytest.mark.parametrize(
    ("method", "path", "json", "status", "code"),
    [
        ("GET", "/users/1/recommendations?k=0", None, 422, "validation_error"),
        ("GET", "/users/1/recommendations?k=101", None, 422, "validation_error"),
        ("GET", "/users/1/recommendations?k=abc", None, 422, "validation_error"),
        ("GET", "/users/1/recommendations?seed_items=nope", None, 404, "item_not_found"),
        ("GET", "/users/1/recommendations?seed_items=,", None, 400, "bad_seed_items"),
        ("GET", "/items/99999/similar", None, 404, "item_not_found"),
        ("GET", "/users/1/recommendations/99999/explain", None, 404, "item_not_found"),
        ("GET", "/users/424242/recommendations/5/explain", None, 404, "user_not_found"),
        ("GET", "/users/bad%20id/recommendations", None, 422, "validation_error"),
        ("POST", "/users/1/plays", {"plays": [{"item_id": "99999"}]}, 404, "item_not_found"),
        ("POST", "/users/1/plays", {"plays": [{"item_id": "5"}], "extra": 1}, 422, "validation_error"),
        ("POST", "/users/1/plays", {"plays": []}, 422, "validation_error"),
        ("POST", "/users/1/plays", {"plays": [{"item_id": "5", "count": -1}]}, 422, "validation_error"),
        ("POST", "/admin/reload", None, 404, "not_found"),
    ],
)


@BAD_INPUT
async def test_bad_input_gets_a_clear_4xx_envelope(
    served_models: Path, method: str, path: str, *, json: object, status: int, code: str
) -> None:
    """Bad k, unknown ids, unknown fields: 4xx with the error envelope, never a 500."""
    async with serving(settings(served_models)) as (_app, client):
        response = await client.request(method, path, json=json)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]


async def test_readiness_reports_the_model_version(served_models: Path) -> None:
    async with serving(settings(served_models)) as (app, client):
        ready = await client.get("/readyz")
        metrics = (await client.get("/metrics")).text
        version = app.state.recommender.holder.engine.version
    assert ready.status_code == 200
    assert ready.json()["model"]["version"] == version
    assert f'recommender_model_info{{version="{version}"}} 1.0' in metrics


async def test_an_empty_models_folder_gets_a_bootstrapped_artifact(tmp_path: Path) -> None:
    """No artifact at start: the service trains a small synthetic one whose ids are catalog-style integers."""
    app_settings = settings(
        tmp_path, mode="services", bootstrap_users=60, bootstrap_items=80, bootstrap_iterations=2
    )
    async with serving(app_settings) as (_app, client):
        body = (await client.get("/users/1/recommendations?k=3")).json()
    assert len(list(tmp_path.iterdir())) == 1  # noqa: ASYNC240 - a test's temp folder, after the app stopped
    assert body["source"] == "model"
    assert all(item.isdigit() for item in item_ids(body))
