# Plain WSGI app: PATH_INFO /sleep sleeps D = 1 s, anything else answers at once.
import os, threading, time
def application(environ, start_response):
    if environ.get('PATH_INFO') == '/sleep':
        time.sleep(1)
        body = 'slept'
    else:
        body = 'fast'
    body = f"{body} pid={os.getpid()} tid={threading.get_ident()}\n".encode()
    start_response('200 OK', [('Content-Type', 'text/plain'), ('Content-Length', str(len(body)))])
    return [body]
