"""`rnnlab translate`: sequence-to-sequence translation with attention."""

from rnnlab.tasks.translation.api import Translator
from rnnlab.tasks.translation.config import TranslationConfig

__all__ = ["TranslationConfig", "Translator"]
