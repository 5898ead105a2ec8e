"""An HTTP/1.1 keep-alive app for the incoming tests: tells who answered, what it got, and from which connection."""
import hashlib
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME, HOST, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def handle_one(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.flush()
            while True:
                data = self.rfile.read1(65536)
                if not data:
                    break
                self.wfile.write(NAME.encode() + b":" + data.upper())
                self.wfile.flush()
            self.close_connection = True
            return
        data = self.read_body()
        reply = "%s %s %s dev=%s len=%d sha=%s from=%d" % (
            NAME, self.command, self.path, self.headers.get("x-dev", "-"), len(data),
            hashlib.sha256(data).hexdigest()[:16], self.client_address[1])
        body = reply.encode()
        self.send_response(200)
        if self.path.startswith("/chunked"):
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(0, len(body), 7):
                part = body[i:i + 7]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = handle_one


# A backlog like a real server's (socketserver's default is 5): with more clients at once than that, the kernel holds
# connections in the handshake for seconds, which would be the test app's doing, not what the test looks at.
class Server(ThreadingHTTPServer):
    request_queue_size = 512

    def handle_error(self, request, client_address):
        # A client (the agent, a session) that drops its connection mid-request is what several tests do on purpose.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


server = Server((HOST, PORT), Handler)
server.daemon_threads = True
print("ready %d" % server.server_address[1], flush=True)
server.serve_forever()
