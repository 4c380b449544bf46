"""Hostile requests against a running e2hd for a given number of seconds: every route with query values that are
not numbers, not finite, negative, huge or repeated, and bodies that are not JSON, the wrong JSON or very deep.
Every answer must be below 500 and carry a JSON error body; prints the count. Seeded: the same run sends the same
requests."""
import json
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

endpoint, token, run, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
rng = random.Random(0)
values = ["nan", "NaN", "inf", "-inf", "1e999", "-1", "0", "1", "-0", "0x10", "9223372036854775808",
          "18446744073709551616", "1.5", "", "%00", "%ff", "abc", "' OR 1=1 --", "../../etc/passwd",
          "9" * 400, "1e-400", "+1", " 1", "１", "\u202e", "running", "queued"]
names = ["limit", "after", "wait", "status", "all", "n"]
ids = [run, run[:8], run[:1], "", "..", "%2e%2e", "x" * 300, run.upper(), "00000000-0000-0000-0000-000000000000"]
bodies = [b"", b"{", b"null", b"[]", b"{}", b'{"yaml": 1}', b'{"runs": "x"}', b'{"yaml": "name: x\\n", "file": "x"}',
          b"[" * 5000 + b"]" * 5000, b'{"claim": {}}', b'\xff\xfe', json.dumps({"runs": [run] * 100}).encode()]


def request(method, path, body=None):
    req = urllib.request.Request(endpoint + path, data=body, method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=40) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def query():
    pairs = [(rng.choice(names), rng.choice(values)) for _ in range(rng.randint(1, 3))]
    return "?" + "&".join(f"{urllib.parse.quote(n)}={urllib.parse.quote(v, safe='%')}" for n, v in pairs)


deadline = time.monotonic() + seconds
count = 0
while time.monotonic() < deadline:
    target = rng.choice(ids)
    method, path, body = rng.choice([
        ("GET", "/v1/runs" + query(), None),
        ("GET", f"/v1/runs/{urllib.parse.quote(target, safe='%')}", None),
        ("GET", f"/v1/runs/{urllib.parse.quote(target, safe='%')}/events" + query(), None),
        ("GET", f"/v1/runs/{urllib.parse.quote(target, safe='%')}/verify", None),
        ("GET", f"/v1/runs/{urllib.parse.quote(target, safe='%')}/receipt", None),
        ("POST", f"/v1/runs/{urllib.parse.quote(target, safe='%')}/verify", rng.choice(bodies)),
        ("GET", "/v1/groups" + query(), None),
        ("GET", "/v1/verify", None),
        ("POST", "/v1/runs", rng.choice(bodies)),
        ("POST", "/v1/compare", rng.choice(bodies)),
        ("POST", "/v1/import", rng.choice(bodies)),
        ("POST", "/v1/groups", rng.choice(bodies)),
    ])
    if "wait=" in path and "after=" in path:
        path = path.replace("after=", "after_=")  # a wait past the last event would hold the request 30 s
    status, payload = request(method, path, body)
    count += 1
    if status >= 500:
        print(f"{method} {path} -> {status}: {payload[:300]!r}")
        sys.exit(1)
    if status >= 400:
        try:
            json.loads(payload)["error"]["code"]
        except Exception:
            print(f"{method} {path} -> {status} without a JSON error body: {payload[:300]!r}")
            sys.exit(1)
print(f"{count} requests in {seconds:.0f}s, none answered 5xx")
