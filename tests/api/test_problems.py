"""Every error is problem+json, and the OpenAPI document declares them."""

from __future__ import annotations

import httpx

from api.settings import Settings
from tests.api.conftest import asgi_client, make_settings
from tests.api.factories import Factory, bearer


async def test_unknown_route_and_method_are_problems(api: httpx.AsyncClient) -> None:
    missing = await api.get("/nowhere")
    wrong_method = await api.delete("/health")
    for response, status in ((missing, 404), (wrong_method, 405)):
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == status


async def test_unknown_routes_and_methods_say_what_to_do(api: httpx.AsyncClient) -> None:
    missing = (await api.get("/nowhere")).json()
    assert missing["detail"] == "no route matches GET /nowhere; the routes are at /docs"
    wrong = await api.delete("/health")
    assert wrong.json()["detail"] == "DELETE is not allowed on /health; allowed: GET"
    assert wrong.headers["allow"] == "GET"


async def test_a_body_over_the_limit_is_413(settings: Settings, factory: Factory) -> None:
    admin = bearer(await factory.token("admin"))
    small = make_settings(settings.database_url, max_body_bytes=2048)
    async with asgi_client(small) as client:
        huge = {"code": "A", "name": "x" * 5000, "level": "root"}
        response = await client.post("/committees", json=huge, headers=admin)

        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(5):
                yield b" " * 1000

        streamed = await client.post(
            "/committees", content=chunks(),
            headers={**admin, "Content-Type": "application/json"},
        )
    assert response.status_code == streamed.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_openapi_declares_problem_responses(api: httpx.AsyncClient) -> None:
    schema = (await api.get("/openapi.json")).json()
    complete = schema["paths"]["/tasks/{task_id}/complete"]["post"]
    assert {"400", "401", "403", "404", "409", "412", "422", "503"} <= set(complete["responses"])
    assert "If-Match" in complete["responses"]["400"]["description"]
    assert "application/problem+json" in complete["responses"]["422"]["content"]
    assert complete["description"] == (
        "Complete an open task with its evidence (the committee's staff)."
    )
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description"), f"{method.upper()} {path} has no description"
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


async def test_a_query_parameter_a_route_does_not_take_is_422_naming_it(
    api: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.tree()
    staff = bearer(await factory.token("staff", "GR"))
    admin = bearer(await factory.token("admin"))
    for path, wanted in (("/tasks?comittee=GR", "committee"),
                         ("/cycles/stuck?limit=5&order=asc", "limit"),
                         ("/notifications?unread=true&seen=false", "unread")):
        headers = admin if path.startswith("/cycles/stuck") else staff
        response = await api.get(path, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        detail = response.json()["detail"]
        unknown = path.split("?")[1].split("&")[-1].split("=")[0]
        assert f"unknown query parameters: {unknown};" in detail, detail
        assert wanted in detail.split("this route takes")[1]
    # The same parameters, spelled right, and a route that takes none, answer as usual.
    assert (await api.get("/tasks?committee=GR", headers=staff)).status_code == 200
    assert (await api.get("/cycles/stuck?limit=5", headers=admin)).status_code == 200
    assert (await api.get("/templates?whatever=1", headers=staff)).status_code == 200
    # A web page reads its own query (a notice after a redirect): not the API's rule.
    assert (await api.get("/web/sign-in?next=/web&password=set")).status_code == 200
