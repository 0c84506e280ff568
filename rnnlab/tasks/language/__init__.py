"""Word-level recurrent language models: pretraining for transfer learning (ULMFiT)."""

from rnnlab.tasks.language.api import LanguageModel
from rnnlab.tasks.language.config import LanguageModelConfig

__all__ = ["LanguageModel", "LanguageModelConfig"]
