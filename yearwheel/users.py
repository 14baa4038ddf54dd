"""Create users from the command line and the dev runner, straight against the database."""

from __future__ import annotations

from datetime import timedelta

from api.db import make_engine, make_sessions
from api.models import Role, utcnow
from api.services.users import create_user


async def create_user_with_token(
    database_url: str,
    *,
    name: str,
    role: str,
    committee: str | None = None,
    expires_days: int | None = None,
) -> str:
    """Create a user and return its token, which is shown once and stored only hashed."""
    engine = make_engine(database_url)
    try:
        async with make_sessions(engine)() as session, session.begin():
            _, token = await create_user(
                session=session,
                name=name,
                role=Role(role),
                committee_code=committee,
                expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
                actor="cli",
            )
        return token
    finally:
        await engine.dispose()
