"""The one outbound JSON POST (lms.core.http): only http(s) addresses are ever opened."""

import http.server
import json
import threading

import pytest

from lms.core.http import post_json


class GatewayDown(OSError):
    pass


@pytest.mark.parametrize("address", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/"])
def test_an_address_that_is_not_http_is_refused_without_opening_it(address):
    with pytest.raises(GatewayDown, match="not http"):
        post_json(address, {"x": 1}, error_class=GatewayDown)


def test_a_gateway_on_http_receives_the_json():
    received = []

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        assert post_json(f"http://127.0.0.1:{server.server_port}/sms", {"to": "0909"}) == 202
    finally:
        thread.join(timeout=5)
        server.server_close()
    assert received == [{"to": "0909"}]
