# Minimal Flask app: /sleep sleeps D = 1 s, /fast answers at once.
import os, time
from flask import Flask
app = Flask(__name__)

@app.get("/sleep")
def slow():
    time.sleep(1)
    return f"slept pid={os.getpid()}\n"

@app.get("/fast")
def fast():
    return f"fast pid={os.getpid()}\n"
