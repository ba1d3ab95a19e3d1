"""Turn prompts into padded batches of token ids and run the forward pass over them.

Scoring and training share the encoding: `prompt_ids` (exactly one BOS), `PromptEncoder` (the
prompt's shared prefix and each text's suffix, cut to fit the context), `left_pad` and `after_prefix`
(rows that continue a cached prefix). `iter_logprob_batches` is scoring's forward pass: the prefix runs
once, its key/value cache is copied for every batch, and only the last position's logits are computed.

A classification prompt is a shared prefix (instruction, few-shot demonstrations) followed by a
per-text suffix. `encode_examples` tokenizes training rows exactly as `confnb.classify` does -- the
prefix and suffixes from scoring's own prompt encoder -- and appends each row's answer tokens
(`answer_ids`); `collate_examples` left-pads the rows so every answer ends at the last position;
`forward_examples` runs the prefix once, repeats its key/value cache over the batch and returns the
answer-token loss and the next-token log-probabilities after each prompt; `evaluate_examples` turns
those into a mean loss and `confnb.classify`'s accuracy, without gradients.

Out of scope: the training loop, optimizer and stopping rule (`confnb.finetune`), choosing which rows
to train or validate on (`confnb.holdout`), and scoring unlabelled texts (`confnb.classify`).
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from . import tasks as _tasks
from .distributions import score_distribution

__all__ = [
    "PromptEncoder",
    "TrainingExamples",
    "VerbalizerTrie",
    "after_prefix",
    "iter_logprob_batches",
    "left_pad",
    "prompt_ids",
    "answer_ids",
    "collate_examples",
    "encode_examples",
    "evaluate_examples",
    "forward_examples",
]


# ------------------------------------------------------------------------------- prompts, scoring


def adds_bos(tokenizer: Any, prompt: str) -> bool:
    """Whether to let the tokenizer add its special tokens (BOS) to `prompt`.

    Not when the text already starts with the BOS token: chat templates of Gemma 3 and Llama 3.x
    render ``<bos>`` / ``<|begin_of_text|>`` themselves, and adding one more would start the prompt
    with two BOS tokens, a sequence the model never saw in training.
    """
    bos = getattr(tokenizer, "bos_token", None)
    return not (bos and prompt.startswith(bos))


def prompt_ids(tokenizer: Any, prompt: str) -> list[int]:
    """Token ids of a whole prompt, with exactly the one BOS token the model expects.

    The tokenizer's special tokens are added unless `prompt` already starts with the BOS token
    (as text rendered by a chat template may). Every place that encodes a prompt -- scoring's
    shared prefix, `confnb.next_token_table`, fine-tuning -- goes through this function.

    Examples
    --------
    >>> ids = prompt_ids(load_model().tokenizer, "Knock knock.")    # doctest: +SKIP
    """
    return list(tokenizer(prompt, add_special_tokens=adds_bos(tokenizer, prompt))["input_ids"])


class PromptEncoder:
    """Token ids of a task's shared prefix and of each text's suffix, with context-length truncation.

    Attributes
    ----------
    prefix_ids : list of int
        The prompt up to the text, BOS included (`prompt_ids`).
    truncated : int
        How many texts `suffix_ids` has cut to fit the context so far.
    """

    def __init__(self, model: Any, task: Any):
        self.tokenizer = model.tokenizer
        prefix, self.suffix = task.split(model)
        self.prefix_ids = prompt_ids(self.tokenizer, prefix)
        self.limit = model.context_length
        fixed = len(self.prefix_ids) + len(self._ids(self.suffix.replace("{text}", "")))
        if fixed + 8 > self.limit:
            raise ValueError(
                f"the prompt without the text is already {fixed} tokens, too long for a context of "
                f"{self.limit} tokens; raise max_length or use a shorter prompt (fewer demonstrations)"
            )
        self.text_budget = self.limit - fixed - 2
        self.truncated = 0

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def suffix_ids(self, text: str) -> list[int]:
        """The ids of the prompt after the prefix for `text`, the text cut to fit the context."""
        ids = self._ids(self.suffix.format(text=text))
        if len(self.prefix_ids) + len(ids) > self.limit:
            text = self.tokenizer.decode(self._ids(" " + text)[: self.text_budget]).strip()
            ids = self._ids(self.suffix.format(text=text))
            self.truncated += 1
        return ids


def left_pad(sequences: Sequence[Sequence[int]], pad_id: int):
    """Stack id lists into ``(ids, mask)`` long tensors, padded on the left.

    Left padding puts every row's last real token in the last position, where the next-token
    logits are read.
    """
    import torch

    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for r, s in enumerate(sequences):
        ids[r, width - len(s) :] = torch.tensor(s)
        mask[r, width - len(s) :] = 1
    return ids, mask


def after_prefix(mask, n_prefix: int):
    """Position ids and the full attention mask for left-padded rows that follow a cached prefix.

    Each row's real tokens continue the prefix's positions (pads get the first position, masked).
    """
    import torch

    positions = (n_prefix + mask.cumsum(dim=1) - 1).clamp(min=n_prefix)
    attention = torch.cat([torch.ones((mask.shape[0], n_prefix), dtype=torch.long), mask], dim=1)
    return positions, attention


@dataclass(frozen=True)
class VerbalizerTrie:
    """Multi-token answers as a token trie: the positions one batched forward pass must compute.

    A node is a proper prefix of some answer (its first token, its first two tokens, ...); answers
    that share first tokens share nodes ("card arrival" and "card linking" share "card"). The
    log-probability of an answer is the sum, over its tokens, of that token's log-probability after
    the prompt followed by the node of the tokens before it.

    Attributes
    ----------
    tokens, parents, depths : tuple of int
        Per node: its last token, its parent node (-1: it follows the prompt directly), its length.
    steps : tuple of tuple of (int, int)
        Per answer: for each of its tokens, (node it is read after, -1 for the prompt; token id).

    Examples
    --------
    >>> trie = VerbalizerTrie.build([(5, 6), (5, 7, 8)])
    >>> trie.tokens, trie.parents, trie.steps[1]
    ((5, 7), (-1, 0), ((-1, 5), (0, 7), (1, 8)))
    """

    tokens: tuple[int, ...]
    parents: tuple[int, ...]
    depths: tuple[int, ...]
    steps: tuple[tuple[tuple[int, int], ...], ...]

    @classmethod
    def build(cls, sequences: Sequence[Sequence[int]]) -> "VerbalizerTrie":
        """The trie of `sequences` (each of at least two token ids)."""
        node_of: dict[tuple[int, ...], int] = {}
        tokens: list[int] = []
        parents: list[int] = []
        steps = []
        for seq in sequences:
            seq = tuple(int(t) for t in seq)
            if len(seq) < 2:
                raise ValueError(f"a trie holds answers of two or more tokens, got {list(seq)}")
            path = []
            for k in range(1, len(seq)):
                prefix = seq[:k]
                if prefix not in node_of:
                    node_of[prefix] = len(tokens)
                    tokens.append(prefix[-1])
                    parents.append(node_of[prefix[:-1]] if k > 1 else -1)
                path.append(node_of[prefix])
            steps.append(tuple(zip([-1, *path], seq)))
        depths = []
        for parent in parents:
            depths.append(1 if parent < 0 else depths[parent] + 1)
        return cls(tuple(tokens), tuple(parents), tuple(depths), tuple(steps))

    def ancestry(self):
        """Boolean tensor (n_nodes, n_nodes): node i may attend to node j (j is i or an ancestor)."""
        import torch

        n = len(self.tokens)
        allowed = torch.zeros((n, n), dtype=torch.bool)
        for i in range(n):
            j = i
            while j >= 0:
                allowed[i, j] = True
                j = self.parents[j]
        return allowed


def _answer_logprobs(net, trie: VerbalizerTrie, cache, first_logprobs, mask, n_prefix: int, device):
    """Log-probability of each multi-token answer after each row's prompt: one forward pass.

    The trie's nodes follow each row's cached prompt as one extra block of tokens; a 4-D attention
    mask lets each node see the prompt and its own ancestors only, and its position continues the
    row's positions, so each node's logits equal those of a separate pass over prompt + prefix.
    """
    import torch

    rows, width = mask.shape
    n_nodes = len(trie.tokens)
    dtype = next(net.parameters()).dtype
    allowed = torch.zeros((rows, 1, n_nodes, n_prefix + width + n_nodes), dtype=torch.bool)
    allowed[:, 0, :, :n_prefix] = True
    allowed[:, 0, :, n_prefix : n_prefix + width] = mask[:, None, :].bool()
    allowed[:, 0, :, n_prefix + width :] = trie.ancestry()
    additive = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
    last = n_prefix + mask.sum(dim=1) - 1
    positions = last[:, None] + torch.tensor(trie.depths)[None, :]
    logits = net(
        input_ids=torch.tensor(trie.tokens).expand(rows, n_nodes).to(device),
        attention_mask=additive.to(device),
        position_ids=positions.to(device),
        cache=cache,
        use_cache=True,
    ).logits
    node_logprobs = torch.log_softmax(logits.double(), dim=-1).cpu()
    out = torch.zeros((rows, len(trie.steps)), dtype=torch.float64)
    for a, steps in enumerate(trie.steps):
        for node, token in steps:
            out[:, a] += first_logprobs[:, token] if node < 0 else node_logprobs[:, node, token]
    return out


def iter_logprob_batches(
    model: Any, task: Any, texts: Sequence[str], batch_size: int, *, trie: VerbalizerTrie | None = None
) -> Iterator[tuple[list[int], Any, Any]]:
    """Yield (row indices, next-token log-probs [B, vocab], answer log-probs [B, n_answers] or None).

    Batches run longest texts first. The prompt's shared prefix is run once; its key/value cache is
    copied for every batch, so each batch runs only the texts' own tokens, and only the last
    position's logits are computed. With a `trie` of multi-token answers, one more pass per batch
    reuses each text's cache to score every answer exactly (see `VerbalizerTrie`).
    """
    import torch

    encoder = PromptEncoder(model, task)
    suffixes = [encoder.suffix_ids(t) for t in texts]
    if encoder.truncated:
        warnings.warn(
            f"{encoder.truncated} text(s) were longer than {model.name}'s context of "
            f"{model.context_length} tokens and were truncated",
            stacklevel=4,
        )
    order = sorted(range(len(texts)), key=lambda i: -len(suffixes[i]))
    device = model.model.device
    pad = model.tokenizer.pad_token_id or 0
    net = model.model
    with torch.inference_mode():
        prefix = torch.tensor([encoder.prefix_ids], device=device)
        prefix_cache = net(input_ids=prefix, use_cache=True).cache
        n_prefix = prefix.shape[1]
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            ids, mask = left_pad([suffixes[i] for i in rows], pad)
            positions, attention = after_prefix(mask, n_prefix)
            cache = copy.deepcopy(prefix_cache)
            if len(rows) > 1:
                cache.batch_repeat_interleave(len(rows))
            logits = net(
                input_ids=ids.to(device),
                attention_mask=attention.to(device),
                position_ids=positions.to(device),
                cache=cache,
                use_cache=True,
                logits_to_keep=1,
            ).logits[:, -1]
            first = torch.log_softmax(logits.double(), dim=-1).cpu()
            answers = None
            if trie is not None and trie.tokens:
                answers = _answer_logprobs(net, trie, cache, first, mask, n_prefix, device)
            yield rows, first, answers


# ------------------------------------------------------------------------------ training examples


def _answers(model: Any, task, text: str) -> dict[str, tuple[str, list[int]]]:
    """Per class: the answer string as the model would generate it after the prompt, and its ids."""
    tokenizer = model.tokenizer
    prompt = task.prompt(text, model)
    prompt_tokens = prompt_ids(tokenizer, prompt)
    scored = task.token_ids(model)
    out: dict[str, tuple[str, list[int]]] = {}
    for c in task.class_names:
        word = task.classes[c][0]
        answer = word if (prompt[-1:].isspace() or word.startswith(" ")) else " " + word
        full = prompt_ids(tokenizer, prompt + answer)
        alone = tokenizer(answer, add_special_tokens=False)["input_ids"]
        if full[: len(prompt_tokens)] != prompt_tokens or full[len(prompt_tokens) :] != alone:
            raise ValueError(
                f"the answer {answer!r} merges with the end of the prompt when tokenized; end the "
                "template with a clear answer cue such as 'Answer:'"
            )
        if not alone or alone[0] not in scored[c]:
            raise ValueError(
                f"the answer {answer!r} does not start with a token the task scores for class {c!r}; "
                "the tuned model would learn an answer that classify() ignores"
            )
        out[c] = (answer, alone)
    return out


def answer_ids(model: Any, task=None, text: str = "Example text.") -> dict[str, list[int]]:
    """The token ids the model should produce right after the task's prompt, per class.

    The answer is each class's canonical word (``task.classes[c][0]``) as it would be generated:
    after a plain prompt ending in ``"Answer:"`` it carries a leading space (``" Yes"``), after a chat
    prompt (which ends with the assistant's turn header) it does not (``"Yes"``). The ids are the
    tokens of ``prompt + answer`` after the prompt's own tokens; they must be exactly the answer's
    own tokens and start with a token the task scores for that class.

    Examples
    --------
    >>> lm = confnb.load_model()                          # doctest: +SKIP
    >>> answer_ids(lm, confnb.SENTIMENT)                  # doctest: +SKIP
    {'positive': [7116], 'negative': [1771]}
    """
    task = task if task is not None else _tasks.SENTIMENT
    return {c: ids for c, (_, ids) in _answers(model, task, text).items()}


@dataclass(frozen=True)
class TrainingExamples:
    """Token ids for training: the prompt's shared prefix, then per row its suffix and its answer.

    Made by `encode_examples`; ``prefix_ids + suffix_ids[i] + answer_ids[i]`` is row ``i``'s full
    input, token for token what `confnb.classify` scores followed by the class's answer.
    """

    prefix_ids: list[int]
    suffix_ids: list[list[int]]
    answer_ids: list[list[int]]
    labels: list[str]
    texts: list[str] = field(repr=False)

    def __len__(self) -> int:
        return len(self.labels)


def encode_examples(
    model: Any, texts: Sequence[str], labels: Sequence[str], task=None
) -> TrainingExamples:
    """Tokenize training rows the way `confnb.classify` does, with each row's answer appended.

    The prompt is split into the shared prefix and a per-text suffix with scoring's own encoder, so
    the tuned model sees exactly the tokens it is later scored on; each row's
    ``prefix + suffix + answer`` is checked to equal the tokenization of ``prompt + answer``.

    Examples
    --------
    >>> lm = confnb.load_model()                                              # doctest: +SKIP
    >>> examples = encode_examples(lm, ["I love it."], ["positive"], confnb.SENTIMENT)  # doctest: +SKIP
    >>> lm.tokenizer.decode(examples.answer_ids[0])                            # doctest: +SKIP
    ' Yes'
    """
    task = task if task is not None else _tasks.SENTIMENT
    texts, labels = list(texts), list(labels)
    answers = _answers(model, task, texts[0] if texts else "Example text.")
    encoder = PromptEncoder(model, task)
    suffixes = [encoder.suffix_ids(t) for t in texts]
    if encoder.truncated:
        raise ValueError(
            f"{encoder.truncated} training text(s) do not fit {model.name}'s context of "
            f"{model.context_length} tokens; shorten or remove them"
        )
    tokenizer = model.tokenizer
    prompts = [task.prompt(t, model) + answers[y][0] for t, y in zip(texts, labels)]
    full = [prompt_ids(tokenizer, p) for p in prompts]  # one BOS, even after a chat template
    for i, (ids, suffix, y) in enumerate(zip(full, suffixes, labels)):
        if ids != encoder.prefix_ids + suffix + answers[y][1]:
            raise ValueError(
                f"training row {i} tokenizes differently as one prompt than as prefix + text + answer "
                f"(text {texts[i]!r}); this task's template cannot be trained with a shared prefix"
            )
    return TrainingExamples(
        prefix_ids=list(encoder.prefix_ids),
        suffix_ids=suffixes,
        answer_ids=[answers[y][1] for y in labels],
        labels=labels,
        texts=texts,
    )


def collate_examples(examples: TrainingExamples, rows: Sequence[int], pad_id: int):
    """Left-pad each row's ``suffix + answer`` so every answer ends at the last position.

    Returns input ids, attention mask (prefix included), position ids and labels (-100 everywhere but
    the answer tokens), the tensors `forward_examples` needs.
    """
    import torch

    ids, mask = left_pad([examples.suffix_ids[i] + examples.answer_ids[i] for i in rows], pad_id)
    labels = torch.full(ids.shape, -100, dtype=torch.long)
    for r, i in enumerate(rows):
        k = len(examples.answer_ids[i])
        labels[r, ids.shape[1] - k :] = torch.tensor(examples.answer_ids[i])
    positions, attention = after_prefix(mask, len(examples.prefix_ids))
    return {"input_ids": ids, "attention_mask": attention, "position_ids": positions, "labels": labels}


def forward_examples(net, examples: TrainingExamples, rows: Sequence[int], pad_id: int, device):
    """Answer-token cross-entropy per row, and the log-probs after each row's prompt.

    The prefix is run once (batch of one) and its key/value cache repeated for the rows; gradients
    flow through both. Logits are computed only at the positions that predict answer tokens.

    Returns
    -------
    row_loss : tensor (n_rows,)
        Mean cross-entropy over each row's answer tokens.
    first_logprobs : tensor (n_rows, vocab)
        Log-softmax of the next token after the prompt (what `confnb.classify` scores).
    """
    import torch
    import torch.nn.functional as F

    batch = collate_examples(examples, rows, pad_id)
    k = max(len(examples.answer_ids[i]) for i in rows)
    prefix = torch.tensor([examples.prefix_ids], device=device)
    cache = net(input_ids=prefix, use_cache=True, logits_to_keep=1).cache
    if len(rows) > 1:
        cache.batch_repeat_interleave(len(rows))
    # Position j predicts token j + 1, so the last k tokens (the answers) are predicted by the k positions
    # before the last. They are named by index: an index gathers those hidden states into a contiguous
    # tensor, and the output layer runs as one matrix product. A slice (`logits_to_keep=k + 1`) would
    # leave them strided, and with gradients on, torch then multiplies by a batch-expanded copy of the
    # whole output matrix, several times slower.
    width = batch["input_ids"].shape[1]
    logits = net(
        input_ids=batch["input_ids"].to(device),
        attention_mask=batch["attention_mask"].to(device),
        position_ids=batch["position_ids"].to(device),
        cache=cache,
        use_cache=True,
        logits_to_keep=torch.arange(width - k - 1, width - 1, device=device),
    ).logits.float()
    targets = batch["labels"][:, -k:].to(device)
    token_loss = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-100, reduction="none")
    counts = (targets != -100).sum(dim=1)
    row_loss = token_loss.sum(dim=1) / counts
    # the first answer token of a row sits at position width - len(answer): its predictor is k - len
    first = torch.tensor([k - len(examples.answer_ids[i]) for i in rows], device=device)
    first_logits = logits[torch.arange(len(rows), device=device), first]
    return row_loss, torch.log_softmax(first_logits, dim=-1)


def evaluate_examples(
    net, examples: TrainingExamples, task, token_ids, pad_id: int, device, batch_size: int
) -> tuple[float, float]:
    """Mean answer-token loss and accuracy (classify's prediction rule) on `examples`, no gradients."""
    import torch

    was_training = net.training
    net.eval()
    losses, correct = [], 0
    order = sorted(range(len(examples)), key=lambda i: -len(examples.suffix_ids[i]))
    try:
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                rows = order[start : start + batch_size]
                row_loss, logprobs = forward_examples(net, examples, rows, pad_id, device)
                losses.append(row_loss.double().cpu().numpy())
                predicted = score_distribution(
                    logprobs.double().cpu().numpy(), token_ids, positive_class=task.positive_class
                )["prediction"]
                correct += int(sum(p == examples.labels[i] for p, i in zip(predicted, rows)))
    finally:
        net.train(was_training)
    return float(np.concatenate(losses).mean()), correct / len(examples)
