"""Payment gateway adapters (issue #5): the offline default; Stripe Connect comes
in a later issue behind the same port."""

from caratzon_adapters.payments.offline import OfflineGateway

__all__ = ["OfflineGateway"]
