"""The blog's FastAPI app: the two endpoints as the blog describes them, and nothing else in the way.

    python3 -m uvicorn reference.fastapi_app:app --workers 1      # 127.0.0.1:8000, 3 s, 40 threads
    curl localhost:8000/asyncio-test/1                              # {"user":1,"status":"done"} after 3 s

`async def` + `await asyncio.sleep` holds no thread: 100 requests wait together, ≈3 s.
`def` + `time.sleep` blocks a thread. FastAPI runs `def` endpoints through
starlette.concurrency.run_in_threadpool → anyio.to_thread.run_sync, whose default limiter is
CapacityLimiter(40): 100 requests run as 40 + 40 + 20, ≈9 s.

Two settings from the environment, so scripts/compare-fastapi.ts can run it quickly and test that cause:
    DELAY_MS      how long both endpoints sleep, ms (default 3000, the blog's 3 s)
    THREAD_LIMIT  anyio's limit for `def` endpoints (default: anyio's own, 40)
"""
import asyncio
import os
import time
from datetime import datetime

import anyio.to_thread
from fastapi import FastAPI

DELAY_SECONDS = int(os.environ.get("DELAY_MS", "3000")) / 1000
THREAD_LIMIT = os.environ.get("THREAD_LIMIT")

app = FastAPI()


@app.get("/asyncio-test/{user_id}")
async def asyncio_test(user_id: int):
    print(f"{datetime.now()} START /asyncio-test/{user_id}")
    await asyncio.sleep(DELAY_SECONDS)
    print(f"{datetime.now()} END   /asyncio-test/{user_id}")
    return {"user": user_id, "status": "done"}


@app.get("/sync-test/{user_id}")
def sync_test(user_id: int):
    print(f"{datetime.now()} START /sync-test/{user_id}")
    time.sleep(DELAY_SECONDS)
    print(f"{datetime.now()} END   /sync-test/{user_id}")
    return {"user": user_id, "status": "done"}


@app.on_event("startup")
async def set_thread_limit():
    # The default limiter exists per event loop, so it can only be changed once the loop runs.
    if THREAD_LIMIT:
        anyio.to_thread.current_default_thread_limiter().total_tokens = int(THREAD_LIMIT)
