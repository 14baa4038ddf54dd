"""Signing in without a browser (the app in-process): one-time password links, the cookie's
flags, throttled and audited failures, idle expiry, and the CSRF token on the sign-in form."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select, update

from api.db import Sessions
from api.models import AuditEvent, User, WebSession, utcnow
from api.services.signin import FREE_FAILURES, issue_link, link_user
from api.settings import Settings
from tests.api.conftest import asgi_client
from tests.api.factories import Factory, bearer
from tests.web.conftest import PASSWORD, person
from yearwheel.users import create_user_with_link, password_url, set_passwords

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def form_token(client: httpx.AsyncClient, url: str) -> str:
    page = await client.get(url)
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


async def try_sign_in(client: httpx.AsyncClient, name: str, password: str) -> httpx.Response:
    token = await form_token(client, "/web/sign-in")
    return await client.post("/web/sign-in", data={
        "csrf_token": token, "name": name, "password": password, "next": "/web/inbox",
    })


async def audit(sessions: Sessions, action: str) -> list[AuditEvent]:
    async with sessions() as session:
        return list((await session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        )).all())


async def test_a_one_time_link_sets_the_password_once(
    settings: Settings, factory: Factory, database_url: str
) -> None:
    await factory.tree()
    _, link = await create_user_with_link(database_url, name="clerk", role="staff",
                                          committee="GR")
    assert password_url("http://example.test/", link) == f"http://example.test/web/password/{link}"
    async with asgi_client(settings) as client:
        page = await client.get(f"/web/password/{link}")
        assert page.status_code == 200 and "clerk" in page.text
        token = CSRF.search(page.text)
        assert token is not None
        without = await client.post(f"/web/password/{link}", data={
            "password": PASSWORD, "repeat": PASSWORD,
        })
        assert without.status_code == 403
        short = await client.post(f"/web/password/{link}", data={
            "csrf_token": token.group(1), "password": "ngắn", "repeat": "ngắn",
        })
        assert short.status_code == 422 and "ít nhất 10 ký tự" in short.text
        done = await client.post(f"/web/password/{link}", data={
            "csrf_token": token.group(1), "password": PASSWORD, "repeat": PASSWORD,
        })
        assert (done.status_code, done.headers["location"]) == (303, "/web/sign-in?password=set")
        assert (await client.get(f"/web/password/{link}")).status_code == 404  # spent
        assert (await try_sign_in(client, "clerk", PASSWORD)).status_code == 303
    async with factory.sessions() as session:
        assert await link_user(session=session, token=link) is None
        user = await session.scalar(select(User).where(User.name == "clerk"))
        assert user is not None and user.password_hash is not None
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert [e.actor for e in await audit(factory.sessions, "user.password_set")] == ["clerk"]


async def test_the_session_cookie_is_httponly_lax_and_secure_over_tls(
    settings: Settings, factory: Factory
) -> None:
    await factory.tree()
    await person(factory.sessions, name="clerk", role="staff", committee="GR")
    async with asgi_client(settings) as client:
        plain = await try_sign_in(client, "clerk", PASSWORD)
        cookie = plain.headers["set-cookie"].lower()
        assert "yw_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
        assert "path=/web" in cookie and "secure" not in cookie
        client.base_url = httpx.URL("https://api")
        client.cookies.clear()
        over_tls = await try_sign_in(client, "clerk", PASSWORD)
        assert "secure" in over_tls.headers["set-cookie"].lower()


async def test_failed_sign_ins_are_slowed_and_audited(
    settings: Settings, factory: Factory
) -> None:
    await factory.tree()
    await person(factory.sessions, name="clerk", role="staff", committee="GR")
    async with asgi_client(settings) as client:
        for _ in range(FREE_FAILURES - 1):
            wrong = await try_sign_in(client, "clerk", "sai-mật-khẩu")
            assert wrong.status_code == 401 and "retry-after" not in wrong.headers
            assert "Tên đăng nhập hoặc mật khẩu không đúng." in wrong.text
        slowed = await try_sign_in(client, "clerk", "sai-mật-khẩu")
        assert (slowed.status_code, slowed.headers["retry-after"]) == (401, "1")
        async with factory.sessions() as session:
            user = await session.scalar(select(User).where(User.name == "clerk"))
            assert user is not None and user.signin_blocked_until is not None
            assert user.signin_blocked_until - utcnow() <= timedelta(seconds=1)
            # Stretched, so a slow machine cannot end the wait before the next try.
            user.signin_blocked_until = utcnow() + timedelta(minutes=1)
            await session.commit()
        blocked = await try_sign_in(client, "clerk", PASSWORD)  # right, but too soon
        assert blocked.status_code == 429 and "chờ" in blocked.text
        assert "yw_session" not in blocked.headers.get("set-cookie", "")
        stranger = await try_sign_in(client, "không-có-ai", PASSWORD)
        assert stranger.status_code == 401
        async with factory.sessions() as session:  # the wait is over
            await session.execute(update(User).where(User.name == "clerk")
                                  .values(signin_blocked_until=utcnow() - timedelta(seconds=1)))
            await session.commit()
        assert (await try_sign_in(client, "clerk", PASSWORD)).status_code == 303
    failed = await audit(factory.sessions, "web.signin_failed")
    assert [e.payload["reason"] for e in failed] == [
        *["password"] * FREE_FAILURES, "blocked", "unknown-user"
    ]
    assert all(e.actor == "anonymous" for e in failed)
    async with factory.sessions() as session:
        user = await session.scalar(select(User).where(User.name == "clerk"))
    assert user is not None and (user.failed_signins, user.signin_blocked_until) == (0, None)


async def test_an_idle_session_ends_and_the_sign_in_form_needs_its_token(
    settings: Settings, factory: Factory
) -> None:
    await factory.tree()
    await person(factory.sessions, name="clerk", role="staff", committee="GR")
    async with asgi_client(settings) as client:
        forged = await client.post("/web/sign-in", data={"name": "clerk", "password": PASSWORD})
        assert forged.status_code == 403 and "CSRF" in forged.text
        assert (await try_sign_in(client, "clerk", PASSWORD)).status_code == 303
        assert (await client.get("/web/inbox")).status_code == 200
        nowhere = await client.get("/web/tasks/not-a-number")  # a page, not problem+json
        assert nowhere.status_code == 404 and "Không tìm thấy" in nowhere.text
        idle = timedelta(minutes=settings.web_idle_minutes, seconds=1)
        async with factory.sessions() as session:
            await session.execute(update(WebSession).values(last_seen_at=utcnow() - idle))
            await session.commit()
        expired = await client.get("/web/inbox")
        assert (expired.status_code, expired.headers["location"]) == (
            303, "/web/sign-in?next=/web/inbox"
        )


async def test_a_revoked_user_can_neither_use_a_link_nor_stay_signed_in(
    settings: Settings, factory: Factory
) -> None:
    await factory.tree()
    await person(factory.sessions, name="clerk", role="staff", committee="GR")
    async with asgi_client(settings) as client:
        assert (await try_sign_in(client, "clerk", PASSWORD)).status_code == 303
        async with factory.sessions() as session:
            user = await session.scalar(select(User).where(User.name == "clerk"))
            assert user is not None
            link = await issue_link(session=session, user_id=user.id, actor="test")
            user.revoked_at = utcnow()
            await session.commit()
        assert (await client.get("/web/inbox")).status_code == 303
        assert (await client.get(f"/web/password/{link}")).status_code == 404
        assert (await try_sign_in(client, "clerk", PASSWORD)).status_code == 401


async def test_the_demo_gives_its_people_one_password_through_their_links(
    settings: Settings, factory: Factory, database_url: str
) -> None:
    await factory.tree()
    for name, committee in (("staff-GR", "GR"), ("supervisor-UP", "UP")):
        await create_user_with_link(database_url, name=name, role="staff" if committee == "GR"
                                    else "supervisor", committee=committee)
    await set_passwords(database_url, names=["staff-GR", "supervisor-UP"], password=PASSWORD)
    async with asgi_client(settings) as client:
        for name in ("staff-GR", "supervisor-UP"):
            client.cookies.clear()
            assert (await try_sign_in(client, name, PASSWORD)).status_code == 303
    assert len(await audit(factory.sessions, "user.password_set")) == 2


async def test_an_admin_issues_a_password_link_over_the_api(
    settings: Settings, factory: Factory
) -> None:
    await factory.tree()
    admin = bearer(await factory.token("admin"))
    await factory.token("staff", "GR", name="clerk")
    await factory.token("staff", "GR", name="gone")
    async with factory.sessions() as session:
        ids = dict((await session.execute(select(User.name, User.id))).tuples().all())
        gone = await session.get(User, ids["gone"])
        assert gone is not None
        gone.revoked_at = utcnow()
        await session.commit()
    async with asgi_client(settings) as client:
        headers = {**admin, "Idempotency-Key": "link-1"}
        issued = await client.post(f"/users/{ids['clerk']}/password-link", headers=headers)
        assert issued.status_code == 201, issued.text
        url = issued.json()["url"]
        assert url.startswith(f"{settings.public_url}/web/password/")
        again = await client.post(f"/users/{ids['clerk']}/password-link", headers=headers)
        assert (again.status_code, again.json()["url"]) == (201, url)  # replayed, not reissued
        path = url.removeprefix(settings.public_url)
        token = await form_token(client, path)
        done = await client.post(path, data={"csrf_token": token, "password": PASSWORD,
                                             "repeat": PASSWORD})
        assert done.status_code == 303
        assert (await try_sign_in(client, "clerk", PASSWORD)).status_code == 303
        revoked = await client.post(f"/users/{ids['gone']}/password-link", headers=admin)
        assert revoked.status_code == 409
        staff = await client.post(f"/users/{ids['clerk']}/password-link",
                                  headers=bearer(await factory.token("staff", "GR")))
        assert staff.status_code == 403
    issued_events = await audit(factory.sessions, "user.password_link")
    assert [e.subject for e in issued_events] == [f"user/{ids['clerk']}"]
