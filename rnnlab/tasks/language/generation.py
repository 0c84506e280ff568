"""Text generation with a trained language model: the one-to-many shape of the decks (the RNN
"that reads and predicts the next character"), one token at a time, the recurrent state
carried, so a caller (the CLI, a server) can stream the text as it is produced."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import torch

from rnnlab.console import console
from rnnlab.data.text import EOS, PAD_ID, UNK, UNK_ID
from rnnlab.errors import UserError, check_range, printable
from rnnlab.models.lm import WordLanguageModel
from rnnlab.models.sampling import choose_next


class Token(NamedTuple):
    """One generated token: `text` as it is printed (a word with the space before it, a
    character as is, <eos> as a line break), its id, and the model's log-probability of it
    (natural log, the model's own distribution: before temperature, top-k and top-p)."""

    text: str
    id: int
    logprob: float


def check_sampling(length: int, temperature: float, top_k: int | None, top_p: float | None
                   ) -> None:
    """The sampling options' one rule, for the API and the command line."""
    if length < 1:
        raise UserError(f"--length must be at least 1 token; got {length}")
    check_range(temperature, "--temperature", 0.0, 100.0)
    if top_k is not None and top_k < 1:
        raise UserError(f"--top-k must be at least 1 (or left out for no limit); got {top_k}")
    if top_p is not None:
        check_range(top_p, "--top-p", 1e-9, 1.0)
        if top_p <= 0:
            raise UserError(f"--top-p must be above 0; got {top_p}")


def prompt_ids(tokenizer, level: str, prompt: str) -> list[int]:  # noqa: ANN001
    """The prompt's ids. Character level: one `error:` line naming the characters the model
    never saw (there is no sensible stand-in for one). Word level: unknown words become <unk>
    with a warning. An empty prompt starts from a line break (char) or a document start."""
    if level == "char":
        unseen = tokenizer.unseen(prompt)
        if unseen:
            shown = ", ".join(printable(repr(ch)) for ch in unseen[:10])
            raise UserError(f"the prompt holds {len(unseen)} character(s) the model never saw in "
                            f"training ({shown}); remove or replace them")
        return tokenizer.encode(prompt or "\n")
    ids = tokenizer.encode(prompt) if prompt.strip() else []
    unknown = sum(1 for i in ids if i == UNK_ID)
    if unknown:
        console.print(f"[yellow]warning: {unknown} word(s) of the prompt are not in the model's "
                      "vocabulary and are read as <unk>[/yellow]")
    return ids or [tokenizer.token_to_id(EOS)]


def piece(tokenizer, level: str, index: int, first: bool) -> str:  # noqa: ANN001
    """How token `index` is printed after the text so far."""
    token = tokenizer.id_to_token(index)
    if level == "char":
        return token
    if token == EOS:
        return "\n"
    return token if first else " " + token


@torch.no_grad()
def generate_tokens(net: WordLanguageModel, tokenizer, level: str, ids: list[int],  # noqa: ANN001
                    length: int, temperature: float = 1.0, top_k: int | None = None,
                    top_p: float | None = None, seed: int = 0,
                    starts_line: bool = True) -> Iterator[Token]:
    """`length` tokens continuing `ids`. <pad> and <unk> are never chosen. The same seed
    gives the same tokens; temperature 0 is greedy decoding."""
    generator = torch.Generator().manual_seed(seed)
    banned = [PAD_ID, UNK_ID] if tokenizer.token_to_id(UNK) == UNK_ID else [PAD_ID]
    logits, state = net(torch.tensor([ids], dtype=torch.long), None)
    last = logits[0, -1]
    first = starts_line
    for _ in range(length):
        last = last.clone()
        last[banned] = float("-inf")
        chosen = int(choose_next(last, temperature, top_k, top_p, generator))
        logprob = float(torch.log_softmax(last, dim=-1)[chosen])
        yield Token(piece(tokenizer, level, chosen, first), chosen, logprob)
        first = tokenizer.id_to_token(chosen) == EOS
        logits, state = net(torch.tensor([[chosen]], dtype=torch.long), state)
        last = logits[0, -1]
