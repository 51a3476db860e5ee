# A Python handler, served by RustPython: capos.serve hands it each request
# arriving on the port its process was given (8083 in the webserver demo).
import capos

served = 0
print("hello.py: serving on the listening socket this process was given", flush=True)


def handle(request):
    global served
    served += 1
    page = (
        "<!doctype html><title>RustPython</title><h1>Hello from Python</h1>"
        f"<p>Request {served}: {request.method} {request.path}, answered by a RustPython process.</p>\n"
    )
    return 200, {"content-type": "text/html; charset=utf-8"}, page


capos.serve(handle)
