#!/usr/bin/env python3
"""Use an installed OTB Billing instance the way nginx would pass a browser and an API client
to it: log in through the login page, make and issue an invoice through the API, fetch its
PDF. Standard library only; CI's installer test (install_test.sh) runs it.

    smoke.py login   --port P --host H [--https] --user U --password-file F
                     [--second-factor-file F [--expect-setup]]
    smoke.py invoice --port P --host H [--https] --token-file F --pdf OUT
    smoke.py fetch   --port P --host H [--https] --token-file F --number N --pdf OUT

With --second-factor-file, a user asked to set up the second factor does (the TOTP code is
computed here, RFC 6238) and the backup codes go to that file; a user asked for the code gives
the first backup code left in it. --expect-setup fails unless the set-up was asked for.
Logged in, it checks the uploads (/media/, otb/media.py): refused without a session, a missing
one 404, and the logo the settings page shows (when there is one) an image for the session.

Prints one JSON object; exits 1 with the reason on stderr when something is not as expected.
"""

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import re
import struct
import sys
import time
from pathlib import Path
from urllib.parse import urlencode


class Failed(Exception):
    pass


class Browser:
    """HTTP to 127.0.0.1:port with the instance's Host header; keeps cookies itself, because
    with HTTPS=true they are Secure and a cookie jar would not send them over plain HTTP."""

    def __init__(self, port: int, host: str, https: bool):
        self.port, self.host, self.https = port, host, https
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = {"Host": self.host, **(headers or {})}
        if self.https:
            sent["X-Forwarded-Proto"] = "https"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        connection.close()
        return response.status, dict(response.getheaders()), data

    @property
    def origin(self):
        return f"{'https' if self.https else 'http'}://{self.host}"

    def api(self, method, path, token, payload=None):
        headers = {"Authorization": f"Token {token}", "Accept": "application/json"}
        body = None
        if payload is not None:
            body = json.dumps(payload)
            headers["Content-Type"] = "application/json"
        status, _headers, data = self.request(method, path, body, headers)
        return status, data


def expect(condition, message):
    if not condition:
        raise Failed(message)


def login(browser: Browser, args) -> dict:
    password = Path(args.password_file).read_text().splitlines()[0]
    status, _, page = browser.request("GET", "/login/")
    expect(status == 200, f"GET /login/ answered {status}")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    expect(match, "the login page has no CSRF token")
    form = urlencode(
        {
            "csrfmiddlewaretoken": match.group(1).decode(),
            "username": args.user,
            "password": password,
        }
    )
    status, headers, _ = browser.request(
        "POST",
        "/login/",
        form,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": browser.origin,
            "Referer": f"{browser.origin}/login/",
        },
    )
    expect(status == 302, f"logging in answered {status}, not a redirect: wrong password?")
    expect(headers.get("Location") == "/", f"logging in went to {headers.get('Location')}")
    status, headers, page = browser.request("GET", "/")
    second_factor = None
    if status == 302 and args.second_factor_file:
        second_factor = give_second_factor(browser, headers.get("Location", ""), args)
        status, headers, page = browser.request("GET", "/")
    expect(not args.expect_setup or second_factor == "set up", "no second factor was asked for")
    expect(status == 200, f"the dashboard answered {status} ({headers.get('Location')})")
    expect(args.user.encode() in page, "the dashboard does not show the user's name")
    policy = headers.get("Content-Security-Policy", "")
    expect("default-src 'self'" in policy and "unsafe-inline" not in policy, f"CSP: {policy!r}")
    expect("no-store" in headers.get("Cache-Control", ""), "the dashboard may be cached")
    expect(headers.get("X-Frame-Options") == "DENY", "the dashboard may be framed")
    return {"logged_in": args.user, "second_factor": second_factor, "logo": uploads(browser)}


def uploads(browser: Browser) -> str | None:
    """Uploads are the app's to serve, to a session only (SPEC: Access): never a public
    folder. Returns the logo's address when the settings page shows one."""
    anonymous = Browser(browser.port, browser.host, browser.https)
    status, headers, _ = anonymous.request("GET", "/media/logo/smoke-missing.png")
    expect(
        status == 302 and headers.get("Location", "").startswith("/login/"),
        f"an upload without a session answered {status} ({headers.get('Location')})",
    )
    status, _, _ = browser.request("GET", "/media/logo/smoke-missing.png")
    expect(status == 404, f"a missing upload answered {status}, not 404")
    status, _, page = browser.request("GET", "/settings/")
    if status != 200:
        return None  # not an administrator: no settings page to find the logo on
    match = re.search(rb'<img src="(/media/[^"]+)"', page)
    if not match:
        return None
    logo = match.group(1).decode()
    status, headers, data = browser.request("GET", logo)
    expect(status == 200 and data, f"the logo {logo} answered {status}")
    expect(headers.get("Content-Type", "").startswith("image/"), f"the logo {logo} is no image")
    expect(headers.get("X-Content-Type-Options") == "nosniff", f"the logo {logo} may be sniffed")
    expect("no-store" in headers.get("Cache-Control", ""), f"the logo {logo} may be cached")
    return logo


def totp(secret: str, at: float) -> str:
    """RFC 6238 with the defaults of authenticator apps: SHA-1, 30 s, 6 digits."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def post_form(browser: Browser, path: str, fields: dict) -> tuple[int, dict, bytes]:
    status, _, page = browser.request("GET", path)
    expect(status == 200, f"GET {path} answered {status}")
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    expect(match, f"{path} has no CSRF token")
    form = urlencode({"csrfmiddlewaretoken": match.group(1).decode(), **fields})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Origin": browser.origin,
        "Referer": f"{browser.origin}{path}",
    }
    return browser.request("POST", path, form, headers)


def give_second_factor(browser: Browser, location: str, args) -> str:
    codes_file = Path(args.second_factor_file)
    if location.startswith("/account/second-factor/"):
        _, _, page = browser.request("GET", location)
        secret = re.search(rb'id="totp-secret">([A-Z2-7]+)<', page)
        expect(secret, "the set-up page shows no key")
        status, _, page = post_form(
            browser, location, {"code": totp(secret.group(1).decode(), time.time())}
        )
        codes = re.findall(rb'<li class="col">([a-z2-7]{5}-[a-z2-7]{5})</li>', page)
        expect(status == 200 and len(codes) == 10, "setting up the second factor failed")
        codes_file.write_text("\n".join(code.decode() for code in codes) + "\n")
        return "set up"
    expect(location.startswith("/login/verify/"), f"the dashboard sent to {location}")
    codes = codes_file.read_text().split()
    expect(codes, f"no backup code left in {codes_file}")
    status, headers, _ = post_form(browser, "/login/verify/", {"code": codes[0]})
    expect(status == 302, f"the backup code was refused ({status})")
    codes_file.write_text("\n".join(codes[1:]) + "\n")
    return "backup code"


def save_pdf(browser, token, number, out) -> None:
    status, data = browser.api("GET", f"/api/v1/invoices/{number}/pdf/", token)
    expect(status == 200, f"the PDF of {number} answered {status}: {data[:300]!r}")
    expect(data.startswith(b"%PDF-"), f"the PDF of {number} is not a PDF")
    Path(out).write_bytes(data)


def invoice(browser: Browser, args) -> dict:
    token = Path(args.token_file).read_text().strip()
    status, data = browser.api(
        "POST",
        "/api/v1/clients/",
        token,
        {"code": "SMOKE", "name": "Smoke Test Ltd", "country": "CA", "email": "smoke@example.com"},
    )
    expect(status == 201, f"creating the client: {status} {data!r}")
    status, data = browser.api(
        "POST",
        "/api/v1/invoices/",
        token,
        {
            "client": "SMOKE",
            "lines": [
                {"description": "Installation check", "quantity": "3", "unit_price": "33.33"}
            ],
        },
    )
    expect(status == 201, f"creating the invoice: {status} {data!r}")
    draft = json.loads(data)
    status, data = browser.api("POST", f"/api/v1/invoices/{draft['id']}/issue/", token, {})
    expect(status == 200, f"issuing the invoice: {status} {data!r}")
    issued = json.loads(data)
    save_pdf(browser, token, issued["number"], args.pdf)
    return {"number": issued["number"], "total": issued["total"], "currency": issued["currency"]}


def fetch(browser: Browser, args) -> dict:
    token = Path(args.token_file).read_text().strip()
    status, data = browser.api("GET", f"/api/v1/invoices/{args.number}/", token)
    expect(status == 200, f"reading invoice {args.number}: {status} {data!r}")
    found = json.loads(data)
    save_pdf(browser, token, args.number, args.pdf)
    return {"number": found["number"], "total": found["total"], "currency": found["currency"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["login", "invoice", "fetch"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--https", action="store_true")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password-file")
    parser.add_argument("--second-factor-file")
    parser.add_argument("--expect-setup", action="store_true")
    parser.add_argument("--token-file")
    parser.add_argument("--number")
    parser.add_argument("--pdf")
    args = parser.parse_args()
    browser = Browser(args.port, args.host, args.https)
    try:
        result = {"login": login, "invoice": invoice, "fetch": fetch}[args.action](browser, args)
    except (Failed, OSError, ValueError, KeyError) as exc:
        print(f"smoke {args.action}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
