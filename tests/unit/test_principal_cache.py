"""The per-process cache of token -> principal: fresh for its TTL, and cleared means cleared."""

from __future__ import annotations

from datetime import timedelta

from api.models import Role, utcnow
from api.services.access import Principal
from api.services.users import PRINCIPAL_CACHE_SECONDS, PrincipalCache

STAFF = Principal(name="staff-GR", role=Role.STAFF, committee_id=4, user_id=7)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_ttl_is_short() -> None:
    assert 0 < PRINCIPAL_CACHE_SECONDS <= 5


def test_a_principal_is_trusted_for_the_ttl_from_when_its_lookup_began() -> None:
    clock = Clock()
    cache = PrincipalCache(ttl=2.0, clock=clock)
    started = cache.begin()
    clock.now += 0.5  # the database read took this long
    cache.put("hash", STAFF, expires_at=None, started=started)
    clock.now += 1.4
    assert cache.get("hash") == STAFF
    clock.now += 0.1  # 2.0 s after the lookup began
    assert cache.get("hash") is None
    assert cache.get("another hash") is None


def test_a_lookup_begun_before_a_clear_is_not_kept() -> None:
    cache = PrincipalCache(clock=Clock())
    started = cache.begin()  # read the user's row ...
    cache.clear()  # ... while it was being revoked
    cache.put("hash", STAFF, expires_at=None, started=started)
    assert cache.get("hash") is None


def test_a_clear_forgets_what_was_cached() -> None:
    cache = PrincipalCache(clock=Clock())
    cache.put("hash", STAFF, expires_at=None, started=cache.begin())
    assert cache.get("hash") == STAFF
    cache.clear()
    assert cache.get("hash") is None
    cache.put("hash", STAFF, expires_at=None, started=cache.begin())
    assert cache.get("hash") == STAFF


def test_a_token_that_expires_while_cached_is_not_trusted() -> None:
    cache = PrincipalCache(clock=Clock())
    cache.put("soon", STAFF, expires_at=utcnow() + timedelta(hours=1), started=cache.begin())
    cache.put("gone", STAFF, expires_at=utcnow() - timedelta(seconds=1), started=cache.begin())
    assert cache.get("soon") == STAFF
    assert cache.get("gone") is None


def test_the_cache_holds_at_most_its_size() -> None:
    cache = PrincipalCache(size=3, clock=Clock())
    for n in range(3):
        cache.put(f"hash-{n}", STAFF, expires_at=None, started=cache.begin())
    cache.put("hash-3", STAFF, expires_at=None, started=cache.begin())
    assert cache.get("hash-3") == STAFF
    assert [cache.get(f"hash-{n}") for n in range(3)] == [None, None, None]
