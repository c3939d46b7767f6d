#!/usr/bin/env python3
"""slow-http.py DIR RATE LOG: serve DIR over HTTP on 127.0.0.1 at RATE bytes/s per response, honouring one
"Range: bytes=N-[M]", logging each request line and its Range header to LOG. Prints the port once it listens.
A slow upstream lets the mirror tests kill an update in the middle of a .deb and see it resume."""
import http.server
import os
import sys
import time

root, rate, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        with open(log, "a") as f:
            f.write("%s %s\n" % (self.path, self.headers.get("Range", "-")))
        path = os.path.realpath(os.path.join(root, self.path.lstrip("/")))
        if not path.startswith(os.path.realpath(root) + "/") or not os.path.isfile(path):
            self.send_error(404)
            return
        size = os.path.getsize(path)
        start, end = 0, size - 1
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            a, _, b = rng[6:].partition("-")
            start = int(a or 0)
            end = int(b) if b else size - 1
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        with open(path, "rb") as f:
            f.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = f.read(min(left, max(rate // 10, 1)))
                if not chunk:
                    break
                try:
                    self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client was killed: that is the point of the test
                left -= len(chunk)
                time.sleep(len(chunk) / rate)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
