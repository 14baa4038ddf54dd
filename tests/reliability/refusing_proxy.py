"""An HTTP proxy in front of the API that can refuse one route, as a backend with a bug would.

`python -m tests.reliability.refusing_proxy LISTEN_PORT UPSTREAM_URL SWITCH_FILE PATH STATUS`

Every request goes to UPSTREAM_URL unchanged, except a POST to PATH while SWITCH_FILE exists:
that one is answered STATUS with a problem+json body and never reaches the API. Each refusal
is appended to SWITCH_FILE + ".log" (method, path, the X-Yearwheel-Cycle header), so the test
can see what was refused and for which cycle.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def build(upstream: str, switch: Path, refused_path: str, status: int) -> Starlette:
    client = httpx.AsyncClient(base_url=upstream, timeout=60)
    log = switch.with_name(switch.name + ".log")

    def refuses(path: str, cycle: str) -> bool:
        """Whether to refuse this call (a few bytes of local file I/O): noted if so."""
        if path != refused_path or not switch.exists():
            return False
        with log.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"path": path, "cycle": cycle}) + "\n")
        return True

    async def forward(request: Request) -> Response:
        path = request.url.path
        cycle = request.headers.get("x-yearwheel-cycle", "")
        if request.method == "POST" and refuses(path, cycle):
            body = {"type": "about:blank", "title": "Unprocessable Content", "status": status,
                    "detail": f"{path} does not accept this body (a refusal under test)"}
            return Response(json.dumps(body), status_code=status,
                            media_type="application/problem+json")
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        answer = await client.request(
            request.method, request.url.path, params=request.query_params,
            content=await request.body(), headers=headers,
        )
        kept = {k: v for k, v in answer.headers.items()
                if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)])


def main() -> None:
    listen, upstream, switch, refused_path, status = sys.argv[1:6]
    app = build(upstream, Path(switch), refused_path, int(status))
    uvicorn.run(app, host="127.0.0.1", port=int(listen), log_level="warning")


if __name__ == "__main__":
    main()
