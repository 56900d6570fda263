"""A Stripe stand-in on 127.0.0.1: the few endpoints WeMoov calls, answered as Stripe
documents them, for the official library pointed at it through STRIPE_API_BASE.

- `POST /v1/checkout/sessions` (form-encoded, bracketed keys), `GET /v1/checkout/sessions/{id}`,
  `POST /v1/refunds` (by `payment_intent`);
- `Authorization: Bearer <secret key>` required (401 otherwise);
- `Idempotency-Key`: a repeat with the same parameters replays the first answer, with other
  parameters it is refused (400 `idempotency_error`), as Stripe does;
- errors as `{"error": {"type", "code", "message"}}` with Stripe's statuses.

What a customer would do on the Checkout page, the test does with `pay()` and `expire()`,
each returning the event Stripe would send; `signed()` signs a body as Stripe does
(`Stripe-Signature: t=…,v1=HMAC-SHA256("{t}.{body}")`), computed here without the library.
The stand-in records every refund it made (`refunds`)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

SECRET_KEY = "sk_test_standin_0123456789"
WEBHOOK_SECRET = "whsec_standin_current"
OLD_WEBHOOK_SECRET = "whsec_standin_previous"


def _nested(pairs: list[tuple[str, str]]) -> dict:
    """Stripe's form encoding back into objects: `line_items[0][price_data][currency]=xof`."""
    root: dict = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part, following in itertools.zip_longest(parts, parts[1:]):
            if following is None:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        if node and all(k.isdigit() for k in node):
            return [_lists(node[k]) for k in sorted(node, key=int)]
        return {k: _lists(v) for k, v in node.items()}
    return node


def signed(body: str, secret: str = WEBHOOK_SECRET, *, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header Stripe would send with this body."""
    t = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={signature}"


class StripeStandIn:
    def __init__(self) -> None:
        self.sessions: dict[str, dict] = {}
        self.refunds: list[dict] = []
        self.expired: list[str] = []  # sessions WeMoov expired (POST .../expire)
        self.requests: list[tuple[str, str, dict, str | None]] = []  # method, path, params, idempotency key
        self.refusing = False  # answer every call with a 500, as Stripe does when it is in trouble
        self._idempotent: dict[str, tuple[str, int, dict]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StripeStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- what the customer does on the Checkout page -------------------------------------
    def pay(self, session_id: str, *, amount: int | None = None, currency: str | None = None) -> dict:
        """The customer pays: the session completes; the `checkout.session.completed` event."""
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="complete", payment_status="paid", payment_intent=f"pi_{session_id[3:]}")
            if amount is not None:
                session["amount_total"] = amount
            if currency is not None:
                session["currency"] = currency
            return self.event("checkout.session.completed", session)

    def expire(self, session_id: str) -> dict:
        with self._lock:
            session = self.sessions[session_id]
            session.update(status="expired", url=None)
            return self.event("checkout.session.expired", session)

    def event(self, kind: str, session: dict) -> dict:
        return {
            "id": f"evt_{next(self._ids):08d}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "livemode": False,
            "type": kind,
            "data": {"object": json.loads(json.dumps(session))},
        }

    def refunded_intents(self) -> list[str]:
        return [refund["payment_intent"] for refund in self.refunds]

    # --- the API ---------------------------------------------------------------------------
    def _answer(self, method: str, path: str, params: dict, key: str | None) -> tuple[int, dict]:
        if self.refusing:
            return 500, {"error": {"type": "api_error", "message": "The stand-in is refusing."}}
        if key is not None:
            fingerprint = json.dumps([method, path, params], sort_keys=True)
            with self._lock:
                if key in self._idempotent:
                    first, status, body = self._idempotent[key]
                    if first != fingerprint:
                        return 400, {
                            "error": {
                                "type": "idempotency_error",
                                "message": "Keys for idempotent requests can only be used with the same parameters.",
                            }
                        }
                    return status, body
            status, body = self._route(method, path, params)
            with self._lock:
                self._idempotent.setdefault(key, (fingerprint, status, body))
                return self._idempotent[key][1:]
        return self._route(method, path, params)

    def _route(self, method: str, path: str, params: dict) -> tuple[int, dict]:
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._session_create(params)
        match = re.fullmatch(r"/v1/checkout/sessions/([A-Za-z0-9_]+)", path)
        if method == "GET" and match:
            with self._lock:
                session = self.sessions.get(match[1])
                if session is None:
                    return 404, _missing("checkout.session", match[1])
                return 200, dict(session)
        match = re.fullmatch(r"/v1/checkout/sessions/([A-Za-z0-9_]+)/expire", path)
        if method == "POST" and match:
            with self._lock:
                session = self.sessions.get(match[1])
                if session is None:
                    return 404, _missing("checkout.session", match[1])
                if session["status"] != "open":
                    message = (
                        f"Only Checkout Sessions with a status in [open] can be expired; this is {session['status']}."
                    )
                    return 400, {"error": {"type": "invalid_request_error", "message": message}}
                session.update(status="expired", url=None)
                self.expired.append(session["id"])
                return 200, dict(session)
        if method == "POST" and path == "/v1/refunds":
            return self._refund_create(params)
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL ({path})."}}

    def _session_create(self, params: dict) -> tuple[int, dict]:
        try:
            (item,) = params["line_items"]
            amount = int(item["price_data"]["unit_amount"]) * int(item["quantity"])
            currency = item["price_data"]["currency"]
            if params["mode"] != "payment" or not params["success_url"]:
                raise ValueError("not a payment checkout")
        except (KeyError, ValueError):
            return 400, {"error": {"type": "invalid_request_error", "message": "Invalid checkout parameters."}}
        with self._lock:
            session_id = f"cs_test_{next(self._ids):08d}"
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": "payment",
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": amount,
                "currency": currency,
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "payment_intent": None,
                "success_url": params["success_url"],
                "url": f"https://checkout.stripe.test/c/pay/{session_id}",
                "expires_at": int(time.time()) + 86400,
                "livemode": False,
            }
            self.sessions[session_id] = session
            return 200, dict(session)

    def _refund_create(self, params: dict) -> tuple[int, dict]:
        intent = params.get("payment_intent")
        with self._lock:
            session = next((s for s in self.sessions.values() if s["payment_intent"] == intent), None)
            if session is None:
                return 400, _missing("payment_intent", intent)
            if any(r["payment_intent"] == intent for r in self.refunds):
                return 400, {
                    "error": {
                        "type": "invalid_request_error",
                        "code": "charge_already_refunded",
                        "message": f"Charge for {intent} has already been refunded.",
                    }
                }
            refund = {
                "id": f"re_{next(self._ids):08d}",
                "object": "refund",
                "amount": session["amount_total"],
                "currency": session["currency"],
                "payment_intent": intent,
                "status": "succeeded",
                "metadata": params.get("metadata", {}),
            }
            self.refunds.append(refund)
            return 200, dict(refund)

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _serve(self, method: str):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                path, _, query = self.path.partition("?")
                params = _nested(parse_qsl(raw or query, keep_blank_values=True))
                key = self.headers.get("Idempotency-Key")
                standin.requests.append((method, path, params, key))
                if self.headers.get("Authorization") != f"Bearer {SECRET_KEY}":
                    status, body = 401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key."}}
                else:
                    status, body = standin._answer(method, path, params, key)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", f"req_{time.monotonic_ns()}")
                if key is not None:
                    self.send_header("Idempotency-Key", key)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

        return Handler


def _missing(kind: str, ident) -> dict:
    return {
        "error": {"type": "invalid_request_error", "code": "resource_missing", "message": f"No such {kind}: {ident}"}
    }
