"""/docs and /redoc load every script and stylesheet from the app itself, never a CDN."""

from __future__ import annotations

import re

import httpx
import pytest

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_page_needs_no_internet(api: httpx.AsyncClient, page: str) -> None:
    response = await api.get(page)
    assert response.status_code == 200
    assets = ASSET.findall(response.text)
    assert any(url.endswith(".js") for url in assets), assets
    for url in assets:
        assert url.startswith("/"), f"{page} loads {url} from outside the app"
        served = await api.get(url)
        assert served.status_code == 200, url
        assert len(served.content) > 1000, url
    assert "/openapi.json" in response.text
