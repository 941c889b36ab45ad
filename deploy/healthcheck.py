#!/usr/bin/env python3
"""Wait until an OTB Billing instance answers /healthz, optionally with a given version.

Used by the installer after a (re)start, and by CI. Standard library only. It asks the way
nginx would: with the instance's host name and, when the instance runs with HTTPS=true,
X-Forwarded-Proto: https (else the app would redirect to https://).

    healthcheck.py --port 5050 [--host billing.example.com] [--https] [--version 0.6.0]
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request


def ask(port: int, host: str, https: bool) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz")
    request.add_header("Host", host)
    if https:
        request.add_header("X-Forwarded-Proto", "https")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            return exc.code, json.loads(exc.read())
        except ValueError:
            return exc.code, {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--https", action="store_true")
    parser.add_argument("--version", help="the version the instance must report")
    parser.add_argument("--timeout", type=float, default=60, help="seconds to wait")
    args = parser.parse_args()

    deadline = time.monotonic() + args.timeout
    last = "no answer"
    while True:
        try:
            status, body = ask(args.port, args.host, args.https)
            if status == 200 and body.get("status") == "ok":
                if not args.version or body.get("version") == args.version:
                    print(f"The app answers on port {args.port}: version {body.get('version')}.")
                    return 0
                last = f"it answers with version {body.get('version')}, not {args.version}"
            else:
                last = f"HTTP {status} {body}"
        except (OSError, ValueError) as exc:
            last = str(getattr(exc, "reason", exc))
        if time.monotonic() >= deadline:
            print(
                f"The app did not answer on port {args.port} within {args.timeout:.0f} s: {last}",
                file=sys.stderr,
            )
            return 1
        time.sleep(1)


if __name__ == "__main__":
    sys.exit(main())
