"""The nginx example (deploy/nginx/otb-billing.conf) as the installer writes it passes
``nginx -t`` with Debian's nginx, and its access log names a document link without its
token. Run where nginx is installed (``apt-get install nginx-light``); the installer never
installs it."""

import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "otb-billing.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="needs nginx (apt-get install nginx-light)")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def nginx(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=billing.example.com"],
        check=True,
        capture_output=True,
    )
    http_port, https_port = _free_port(), _free_port()
    site = (
        EXAMPLE.read_text()
        .replace("listen 80;", f"listen 127.0.0.1:{http_port};")
        .replace("listen [::]:80;", "")
        .replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl")
        .replace("listen [::]:443 ssl http2;", "")
        .replace("/etc/letsencrypt/live/billing.example.com/fullchain.pem", str(cert))
        .replace("/etc/letsencrypt/live/billing.example.com/privkey.pem", str(key))
        .replace("/var/log/nginx/access.log", str(tmp_path / "access.log"))
    )
    (tmp_path / "site.conf").write_text(site)
    temp = tmp_path / "temp"
    temp.mkdir()
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\nhttp {{\n"
        + "".join(
            f"  {kind}_temp_path {temp};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        + f"  include {tmp_path}/site.conf;\n}}\n"
    )
    command = [NGINX, "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    subprocess.run(command, check=True)
    yield http_port, tmp_path / "access.log"
    subprocess.run([*command, "-s", "stop"], check=False)


def test_the_access_log_names_a_document_link_without_its_token(nginx):
    port, log = nginx
    token = "Zx8-secret-token-of-a-client"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/q/{token}/pdf/",
        headers={"Referer": f"https://billing.example.com/q/{token}/"},
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    assert answer.value.code == 301  # port 80 sends everything to HTTPS
    # nginx writes the line once the answer is out: wait for it.
    deadline = time.monotonic() + 10
    while not (log.exists() and log.read_text().endswith("\n")) and time.monotonic() < deadline:
        time.sleep(0.02)
    text = log.read_text()
    assert '"GET /q/[token]/pdf/ HTTP/1.1" 301' in text
    assert '"https://billing.example.com/q/[token]/"' in text
    assert token not in text
