"""The offline AI service: no network, no model, no fake translations (issue #4).

``translate`` returns ``None`` whenever a real translation would be needed, so the
caller shows the original text marked "not translated". Text already in the
reader's language is returned unchanged: that is not a translation, just the text.
"""

from __future__ import annotations


class OfflineAI:
    """Implements :class:`caratzon_core.ports.AIService` without any AI."""

    def translate(self, text: str, source: str, target: str) -> str | None:
        if source == target:
            return text
        return None
