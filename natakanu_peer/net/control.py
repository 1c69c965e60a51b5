"""The local control API: how the command line drives the node running for a data directory.

The node serves JSON over HTTP on 127.0.0.1 only, on a free port, and writes the address and
a random token to ``control.json`` in its data directory (readable by the owner only).
Every request must carry the token; the command line reads it from the same file. The
daemon and the window run the same API, so the command line works against either.

This module translates between HTTP and the node's commands; it must never decide anything
itself, and never listen on any address but the loopback.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from ..errors import NatakanuError, UsageError

Handler = Callable[[dict[str, Any]], Awaitable[Any]]
TOKEN_HEADER = "X-Natakanu-Token"


class NoRunningPeer(UsageError):
    """Nothing answers for this data directory."""


def control_app(token: str, commands: dict[str, Handler]) -> web.Application:
    """An aiohttp application exposing ``commands`` as ``POST /v1/<name>`` with JSON bodies."""

    async def dispatch(request: web.Request) -> web.StreamResponse:
        if not secrets.compare_digest(request.headers.get(TOKEN_HEADER, ""), token):
            return web.json_response({"error": "wrong or missing token"}, status=403)
        handler = commands.get(request.match_info["name"])
        if handler is None:
            return web.json_response({"error": "no such command"}, status=404)
        try:
            body = await request.json() if request.can_read_body else {}
            if not isinstance(body, dict):
                raise UsageError("The request body must be a JSON object.")
            result = await handler(body)
        except (NatakanuError, json.JSONDecodeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"result": result})

    app = web.Application(client_max_size=1 << 20)
    app.router.add_post("/v1/{name}", dispatch)
    return app


def write_control_file(path: Path, url: str, token: str) -> None:
    """Publish where the API listens, atomically, readable by the owner only."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps({"url": url, "token": token, "pid": os.getpid()}).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, path)


def remove_control_file(path: Path) -> None:
    try:
        data = json.loads(path.read_text())
        if data.get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


async def call(control_file: Path, data_dir: Path, name: str, body: dict[str, Any]) -> Any:
    """Run one command on the node of ``data_dir``; raise ``UsageError`` with advice on failure."""
    hint = f"no running peer for {data_dir}: start one with `natakanu-peer daemon`"
    try:
        info = json.loads(control_file.read_text())
        url, token = str(info["url"]), str(info["token"])
    except (OSError, ValueError, KeyError) as exc:
        raise NoRunningPeer(hint) from exc
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=5)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.post(f"{url}/v1/{name}", json=body, headers={TOKEN_HEADER: token}) as reply,
        ):
            answer = await reply.json()
    except (aiohttp.ClientConnectionError, OSError) as exc:
        raise NoRunningPeer(hint) from exc
    except (aiohttp.ContentTypeError, ValueError) as exc:
        raise UsageError(f"the peer for {data_dir} gave an answer that makes no sense") from exc
    if "error" in answer:
        raise UsageError(str(answer["error"]))
    return answer.get("result")


def new_token() -> str:
    return secrets.token_urlsafe(32)
