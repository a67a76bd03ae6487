"""Replays known attacks against a running gate; one line per attack.

    scripts/attack URL --link LINK --other-link LINK [--code-link LINK --code CODE]

URL is where the gate listens (``http://127.0.0.1:8000``). LINK is a customer's valid
link; the other link, another customer's (only its customer key is used, read from the
token's payload as an attacker would). With a link of a customer who uses a temporary
access code and that code, the flow-cookie replay and the brute force on codes run too
(they lock that contact out for a while). Each line says ``ok`` (the gate refused as it
must) or ``FAILED``; the exit status is 1 if any failed. Stdlib only.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import re
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

SAME = {"Sec-Fetch-Site": "same-origin"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    cookies: dict[str, str]
    body: str


@dataclass
class Browser:
    """A cookie jar over http.client: no redirects followed, headers sent as given."""

    url: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        parts = urlsplit(self.url)
        kind = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = kind(parts.netloc, timeout=30)
        sent = dict(headers or {})
        if self.cookies:
            sent.setdefault("Cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        body = urlencode(form) if form is not None else None
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, parts.path.rstrip("/") + path, body=body, headers=sent)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        set_cookies = {}
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                set_cookies[key] = rest.split(";", 1)[0]
        conn.close()
        for key, value in set_cookies.items():
            if value:
                self.cookies[key] = value
            else:
                self.cookies.pop(key, None)
        return Answer(response.status, dict(response.getheaders()), set_cookies, text)

    def get(self, path: str, **headers: str) -> Answer:
        return self.request("GET", path, headers=headers)

    def post(
        self, path: str, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> Answer:
        return self.request("POST", path, form, SAME if headers is None else headers)

    def cookie(self, suffix: str) -> tuple[str, str]:
        return next((k, v) for k, v in self.cookies.items() if k.endswith(suffix))


def token_of(link: str) -> str:
    return link.rsplit("/l/", 1)[1]


def csrf(answer: Answer) -> str:
    found = CSRF.search(answer.body)
    return found.group(1) if found else ""


def sign_in(url: str, link: str) -> Browser:
    browser = Browser(url)
    page = browser.get(f"/l/{token_of(link)}")
    browser.post(f"/l/{token_of(link)}", {"csrf_token": csrf(page)})
    return browser


def customer_key(link: str) -> str:
    """The customer key in a link's payload (signed, not encrypted: anyone can read it)."""
    token = token_of(link)
    payload = token.removeprefix(".").split(".", 1)[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if token.startswith("."):  # itsdangerous compressed it
        raw = zlib.decompress(raw)
    return str(json.loads(raw)["k"])


# -- the attacks: each returns (refused as it must, what happened) ---------------------------


def tampered_link(url: str, link: str) -> tuple[bool, str]:
    token = token_of(link)
    bad = ("A" if token[0] != "A" else "B") + token[1:]
    status = Browser(url).get(f"/l/{bad}").status
    return status == 400, f"tampered payload → {status}"


def truncated_link(url: str, link: str) -> tuple[bool, str]:
    status = Browser(url).get(f"/l/{token_of(link)[:-4]}").status
    return status == 400, f"truncated signature → {status}"


def session_cookie_as_link(url: str, link: str) -> tuple[bool, str]:
    browser = sign_in(url, link)
    _, session = browser.cookie("pg_session")
    status = Browser(url).get(f"/l/{session}").status
    return status == 400, f"a session cookie used as a link (wrong purpose) → {status}"


def link_as_session_cookie(url: str, link: str) -> tuple[bool, str]:
    browser = Browser(url, {"pg_session": token_of(link), "__Host-pg_session": token_of(link)})
    status = browser.get("/portal/").status
    return status == 403, f"a link used as a session cookie → {status}"


def cross_customer(url: str, link: str, other: str) -> tuple[bool, str]:
    browser, key = sign_in(url, link), customer_key(other)
    paths = [
        f"/portal/../portals/{key}/manifest.json",
        f"/portal/portals/{key}/manifest.json",
        f"/portal/{key}/index.html",
        f"/portal/%2e%2e/portals/{key}/manifest.json",
        f"/portal/..%2f_access%2f{key}.json",
    ]
    statuses = [browser.get(path).status for path in paths]
    good = all(status in (400, 404) for status in statuses)
    return good, f"another customer's files, {len(paths)} paths → {sorted(set(statuses))}"


def traversal(url: str, link: str) -> tuple[bool, str]:
    browser = sign_in(url, link)
    paths = [
        "/portal/../secret.key",
        "/portal/%2e%2e/%2e%2e/etc/passwd",
        "/portal/..%2f..%2fetc%2fpasswd",
        "/portal//etc/passwd",
        "/portal/quotes/..%5c..%5cindex.html",
        "/portal/static/%00portal.css",
        "/portal/.manifest.json",
        "/portal/_live/quotes.json",
    ]
    statuses = [browser.get(path).status for path in paths]
    good = all(status in (400, 404) for status in statuses)
    return good, f"traversal, {len(paths)} variants → {sorted(set(statuses))}"


def csrf_and_origin(url: str, link: str) -> tuple[bool, str]:
    browser = sign_in(url, link)
    token = csrf(browser.get("/portal/"))
    tries = {
        "no token": browser.post("/logout", {}).status,
        "forged token": browser.post("/logout", {"csrf_token": "0" * 64}).status,
        "cross-site": browser.post(
            "/logout", {"csrf_token": token}, {"Sec-Fetch-Site": "cross-site"}
        ).status,
        "evil Origin": browser.post(
            "/logout", {"csrf_token": token}, {"Origin": "https://evil.example"}
        ).status,
        "Origin = forged Host": browser.post(
            "/logout",
            {"csrf_token": token},
            {"Origin": "http://evil.example", "Host": "evil.example"},
        ).status,
    }
    still = browser.get("/portal/").status
    good = all(status == 403 for status in tries.values()) and still == 200
    return good, "POST /logout: " + ", ".join(f"{k} → {v}" for k, v in tries.items())


def forged_host(url: str, link: str) -> tuple[bool, str]:
    browser = sign_in(url, link)
    answer = browser.get("/portal", Host="evil.example")
    location = answer.headers.get("Location", "")
    good = "evil" not in location
    return good, f"GET /portal with Host: evil.example → {answer.status} to {location or '-'}"


def logout_replay(url: str, link: str) -> tuple[bool, str]:
    browser = sign_in(url, link)
    name, copy = browser.cookie("pg_session")
    browser.post("/logout", {"csrf_token": csrf(browser.get("/portal/"))})
    status = Browser(url, {name: copy}).get("/portal/").status
    return status == 403, f"a session cookie copied before logout → {status}"


def comment_burst(url: str, link: str) -> tuple[bool, str]:
    browser = sign_in(url, link)
    token = csrf(browser.get("/portal/contact.html"))
    statuses = [
        browser.post(
            "/portal/comments", {"csrf_token": token, "document": "", "comment": f"burst {n}"}
        ).status
        for n in range(25)
    ]
    taken = statuses.count(303)
    good = taken <= 10 and statuses[-1] == 429
    return good, f"25 comments at once → {taken} taken, then {statuses[-1]}"


def flow_replay(url: str, link: str, code: str) -> tuple[bool, str]:
    victim = sign_in(url, link)
    typed = victim.post("/code", {"csrf_token": csrf(victim.get("/code")), "code": code})
    if typed.status != 303:
        return False, f"the temporary code was not accepted ({typed.status}): cannot replay"
    token = csrf(victim.get("/code/change"))
    name, flow = victim.cookie("pg_flow")
    chosen = "codigo-de-la-victima-1"
    victim.post("/code/change", {"csrf_token": token, "new": chosen, "repeat": chosen})
    mine = "codigo-del-atacante-1"
    thief = Browser(url, {name: flow})
    answer = thief.post("/code/change", {"csrf_token": token, "new": mine, "repeat": mine})
    signed_in = any(k.endswith("pg_session") and v for k, v in answer.cookies.items())
    return answer.status == 403 and not signed_in, f"flow cookie replayed → {answer.status}"


def brute_force(url: str, link: str) -> tuple[bool, str]:
    browser = sign_in(url, link)
    token = csrf(browser.get("/code"))
    statuses = [
        browser.post("/code", {"csrf_token": token, "code": f"guess-{n:04d}-xx"}).status
        for n in range(8)
    ]
    good = statuses[-1] == 429 and statuses.count(403) <= 5
    return good, f"8 wrong codes → {statuses.count(403)} tried, then {statuses[-1]}"


def attacks(args: argparse.Namespace) -> list[tuple[str, Callable[[], tuple[bool, str]]]]:
    url, link = args.url, args.link
    found: list[tuple[str, Callable[[], tuple[bool, str]]]] = [
        ("tampered link", lambda: tampered_link(url, link)),
        ("truncated link", lambda: truncated_link(url, link)),
        ("wrong-purpose token", lambda: session_cookie_as_link(url, link)),
        ("link as a session", lambda: link_as_session_cookie(url, link)),
        ("cross-customer paths", lambda: cross_customer(url, link, args.other_link)),
        ("traversal", lambda: traversal(url, link)),
        ("CSRF and Origin", lambda: csrf_and_origin(url, link)),
        ("forged Host", lambda: forged_host(url, link)),
        ("logout replay", lambda: logout_replay(url, link)),
        ("comment burst", lambda: comment_burst(url, link)),
    ]
    if args.code_link and args.code:
        found.append(("flow-cookie replay", lambda: flow_replay(url, args.code_link, args.code)))
        found.append(("brute force on codes", lambda: brute_force(url, args.code_link)))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url", help="where the gate listens, e.g. http://127.0.0.1:8000")
    parser.add_argument("--link", required=True, help="a customer's valid link")
    parser.add_argument("--other-link", required=True, help="another customer's link")
    parser.add_argument("--code-link", help="a link of a customer with a temporary code")
    parser.add_argument("--code", help="that temporary access code")
    args = parser.parse_args(argv)
    failed = 0
    for name, attack in attacks(args):
        try:
            good, what = attack()
        except Exception as exc:  # a crash of the attack is a finding too
            good, what = False, f"error: {exc!r}"
        failed += not good
        print(f"{'ok' if good else 'FAILED':7} {name}: {what}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
