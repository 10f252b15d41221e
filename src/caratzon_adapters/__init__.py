"""Adapters: SQL persistence, blob stores, payments, AI, mail — each behind a core port.
The web portal and CLI reach them only through :mod:`caratzon_adapters.bootstrap`."""
