"""`python3 -m uvicorn …` with one addition for the scripts that start it: stop when stdin closes.

A script starts uvicorn with a pipe on its stdin. If the script dies without a chance to stop uvicorn
(SIGKILL, a crash), the pipe closes, and uvicorn shuts down as on Ctrl-C instead of being left running.
(server.ts gets the same guarantee from Node's IPC channel.)

    python3 reference/run_uvicorn.py reference.fastapi_app:app --workers 1 --host 127.0.0.1 --port 0
"""
import os
import signal
import threading

import uvicorn


def stop_when_stdin_closes():
    # os.read, not sys.stdin.buffer.read(): a thread blocked inside the buffered reader holds its lock, and a
    # SIGTERM from outside then makes Python wait a second at exit and abort instead of exiting 0.
    while os.read(0, 65536):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


# uvicorn --workers K starts each worker by running this file again ("spawn"): only the first run is the launcher.
if __name__ == "__main__":
    threading.Thread(target=stop_when_stdin_closes, daemon=True).start()
    uvicorn.main(prog_name="uvicorn")
