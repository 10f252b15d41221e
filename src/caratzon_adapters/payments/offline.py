"""The offline payment gateway: no money moves and nothing leaves the machine.

The platform's own double-entry ledger records every charge, refund and
transfer; this adapter only answers the gateway calls the way a real gateway
would with idempotency keys: the same key always returns the same id, so a
retried call is recognisably the same call. Ids start with ``offline_`` so
nobody mistakes them for real payments."""

from __future__ import annotations

import hashlib
import threading


class OfflineGateway:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[str, tuple[str, int, str]] = {}

    def _answer(self, prefix: str, key: str, amount_minor: int, currency: str) -> str:
        if amount_minor <= 0:
            raise ValueError("amounts sent to the gateway are positive")
        with self._lock:
            seen = self._calls.get(key)
            if seen is not None and seen[1:] != (amount_minor, currency):
                # What Stripe does too: the same key with other parameters is an error.
                raise ValueError("idempotency key reused with different parameters")
            ident = f"offline_{prefix}_{hashlib.sha256(key.encode()).hexdigest()[:24]}"
            self._calls[key] = (ident, amount_minor, currency)
            return ident

    def charge(self, *, amount_minor: int, currency: str, customer: str, idempotency_key: str,
               description: str) -> str:
        return self._answer("ch", idempotency_key, amount_minor, currency)

    def refund(self, *, charge_id: str, amount_minor: int, currency: str, idempotency_key: str) -> str:
        return self._answer("re", idempotency_key, amount_minor, currency)

    def transfer(self, *, amount_minor: int, currency: str, destination: str, idempotency_key: str,
                 transfer_group: str) -> str:
        return self._answer("tr", idempotency_key, amount_minor, currency)
