"""The API export streams on a real server, where the view's session is gone before the body."""

import threading
import urllib.request

from werkzeug.serving import make_server

from backend.extensions import db


def test_a_csv_export_streams_through_a_real_server(app, city, login):
    headers = login(city.supervisor_a)
    db.session.commit()  # the server thread has its own connections
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{server.server_port}/api/v1/audit/visits.csv",
                                         headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        assert response.status == 200 and body.startswith("\ufeff".encode())
    finally:
        server.shutdown()
        thread.join(5)
