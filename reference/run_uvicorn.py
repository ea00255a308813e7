"""`python3 -m uvicorn …` with one addition for the scripts that start it: stop when stdin closes.

A script starts uvicorn with a pipe on its stdin. If the script dies without a chance to stop uvicorn
(SIGKILL, a crash), the pipe closes, and uvicorn shuts down as on Ctrl-C instead of being left running.
(server.ts gets the same guarantee from Node's IPC channel.)

    python3 reference/run_uvicorn.py reference.fastapi_app:app --workers 1 --host 127.0.0.1 --port 0
"""
import os
import signal
import sys
import threading

import uvicorn


def stop_when_stdin_closes():
    sys.stdin.buffer.read()
    os.kill(os.getpid(), signal.SIGTERM)


threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
uvicorn.main(prog_name="uvicorn")
