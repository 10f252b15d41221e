"""Caratzon core: the business rules of the marketplace, free of any framework.

Everything here is pure or talks to the outside world only through the ports in
:mod:`caratzon_core.ports`. Adapters, the web portal and the CLI live elsewhere.
"""

__version__ = "0.1.0"
