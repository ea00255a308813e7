"""The blog's app, unchanged, as uvicorn --workers K serves it, with what scripts/workers.ts needs around it.

    python3 reference/run_uvicorn.py reference.x_worker:app --workers 2 --host 127.0.0.1 --port 0

reference/fastapi_app.py stays the blog's code; this module only wraps it, in each worker process:
- every response carries `X-Worker: <pid>` (an ASGI middleware outside the app), as server.ts's do, so a
  client can count which process served which request;
- each worker prints `X-Worker ready pid=… url=http://HOST:PORT` on stderr once it accepts connections. With
  --workers K uvicorn's own "Uvicorn running on …" line comes from the supervisor before any worker listens,
  and with --port 0 it names port 0; K of these lines are the one honest ready signal, with the real port;
- a worker stops when its supervisor dies, even by SIGKILL (Linux: PR_SET_PDEATHSIG), instead of serving on.
"""
import ctypes
import multiprocessing
import os
import signal
import sys

import uvicorn.server

from reference.fastapi_app import app as blog_app


class XWorkerMiddleware:
    """Adds `X-Worker: <pid>` to every HTTP response of the app it wraps."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        header = (b"x-worker", str(os.getpid()).encode())

        async def send_with_header(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        await self.app(scope, receive, send_with_header)


app = XWorkerMiddleware(blog_app)

# Server.startup() runs the app's startup, then creates the listening server: after it returns, this worker
# accepts connections. (Checked against uvicorn 0.17; a later uvicorn may move this.)
_startup = uvicorn.server.Server.startup


async def _startup_then_say_ready(self, *args, **kwargs):
    await _startup(self, *args, **kwargs)
    if self.started:
        host, port = self.servers[0].sockets[0].getsockname()[:2]
        print(f"X-Worker ready pid={os.getpid()} url=http://{host}:{port}", file=sys.stderr, flush=True)


uvicorn.server.Server.startup = _startup_then_say_ready

# A worker of uvicorn's supervisor (not the single process of --workers 1): go when the supervisor goes.
_supervisor = multiprocessing.parent_process()
if _supervisor is not None and sys.platform.startswith("linux"):
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != _supervisor.pid:  # it died before the line above
        os.kill(os.getpid(), signal.SIGTERM)
