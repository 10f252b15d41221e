"""AI adapters for :class:`caratzon_core.ports.AIService` (issue #4, P18, P23).

:class:`OfflineAI` is the honest default: it never pretends to translate.
The Gemini adapter lives in :mod:`caratzon_adapters.ai.gemini` and is imported
only when asked for, so this package needs no vendor SDK.
"""

from caratzon_adapters.ai.offline import OfflineAI

__all__ = ["OfflineAI"]
