"""Classification tasks: the prompt a model sees and the answer tokens that stand for each class.

A `ClassificationTask` turns a text into the exact prompt string fed to the model, and resolves each
of its K classes' answers (verbalizers: "Yes", " yes", "Y", ..., or "card arrival") to token
sequences of a given tokenizer. Scoring (`confnb.scoring`) then sums the probabilities of those
answers -- a single token's next-token probability, or a multi-token answer's exact probability --
into the *total probability* of each class. A task is also a TOML text (`ClassificationTask.to_toml`,
read back by `confnb.task_files`); the label spellings that map 1/0 or true/false to a binary
task's classes live here too.

Out of scope: generation-based "parse the reply" classification, and loading tasks from files
(`confnb.task_files`).
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "toml_key",
    "toml_string",
    "label_to_class",
    "NEGATIVE_SPELLINGS",
    "POSITIVE_SPELLINGS",
    "SENTIMENT",
    "SENTIMENT_ZERO_SHOT",
    "SENTIMENT_CHAT",
    "ClassificationTask",
    "MultiTokenVariantWarning",
    "VariantResolution",
    "label_text",
]

_SENTINEL = "\x00CONFNB_TEXT\x00"
_TOML_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

#: Spellings of a binary label read as the positive / negative class, besides the class names
#: themselves (compared lower-cased; "fresh"/"rotten" are Rotten Tomatoes' own labels).
POSITIVE_SPELLINGS = frozenset({"1", "true", "yes", "y", "pos", "positive", "fresh"})
NEGATIVE_SPELLINGS = frozenset({"0", "false", "no", "n", "neg", "negative", "rotten"})


def label_text(value: Any) -> str | None:
    """A label cell as text, the way it was meant: 1.0 -> "1", True -> "true", NaN/None/blank -> None.

    CSV round trips turn 1/0 labels into floats and true/false into bools; this undoes that.

    >>> [label_text(v) for v in (1.0, True, " positive ", float("nan"), "")]
    ['1', 'true', 'positive', None, None]
    """
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        if np.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
    text = str(value).strip()
    return text or None


def toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in value:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(name: str) -> str:
    """A TOML key: bare when it can be, else a quoted string."""
    return name if _TOML_BARE_KEY.fullmatch(name) else toml_string(name)



class MultiTokenVariantWarning(UserWarning):
    """A verbalizer was left out because a shorter one of its class already covers its tokens."""


@dataclass(frozen=True)
class VariantResolution:
    """How a task's class variants (verbalizers) map to one tokenizer's vocabulary.

    Attributes
    ----------
    token_ids : dict of str to list of int
        Per class, the ids of its single-token verbalizers, de-duplicated, in the order of the
        variants (scored from the next-token distribution alone).
    tokens : dict of str to list of str
        The single-token verbalizers kept, aligned with `token_ids`.
    skipped : dict of str to list of str
        Verbalizers left out because a shorter verbalizer of the same class is a prefix of theirs:
        its probability already includes theirs (SmolLM2 spells ``YES`` as ``Y`` + ``ES``).
    sequences : dict of str to list of (str, tuple of int)
        Per class, the kept verbalizers of two or more tokens: their text and token ids, scored
        exactly as the product of the tokens' conditional probabilities.
    """

    token_ids: dict[str, list[int]]
    tokens: dict[str, list[str]]
    skipped: dict[str, list[str]]
    sequences: dict[str, list[tuple[str, tuple[int, ...]]]] = field(default_factory=dict)

    def class_of(self) -> dict[int, str]:
        """Map token id -> class name, for the single-token verbalizers."""
        return {i: c for c, ids in self.token_ids.items() for i in ids}

    @property
    def multi_token(self) -> bool:
        """Whether any class keeps a verbalizer of two or more tokens."""
        return any(self.sequences.get(c) for c in self.token_ids)


def _tokenizer(model: Any):
    return getattr(model, "tokenizer", model)


@dataclass(frozen=True)
class ClassificationTask:
    """A prompt template plus, per class, the answer tokens that mean that class.

    Parameters
    ----------
    instruction : str
        The question put to the model, e.g. ``"Is this text positive in sentiment? Answer yes or no."``.
    classes : mapping of str to sequence of str
        Class name -> surface variants. The first variant is the answer written after few-shot
        demonstrations. With ``leading_space=True`` each variant's leading-space form (" Yes") is
        added, since most tokenizers have a separate token for a word after a space.
    template : str
        How one text is shown; must contain ``{text}``. Plain prompts end with an answer cue
        (``"Answer:"``) so the next token is the answer.
    demonstrations : sequence of (text, class) pairs
        Few-shot examples shown before the text, answered with their class's first variant.
    chat : bool
        Wrap the prompt in the tokenizer's chat template (user turn, then the assistant's turn).
    positive_class : str, optional
        The class whose probability is reported as ``p_positive``; defaults to the first class.
    leading_space : bool
        Also score each variant's leading-space form.
    name : str
        A short label, used in reports.

    Examples
    --------
    >>> task = ClassificationTask("Is this fruit? Answer yes or no.",
    ...                           {"fruit": ["Yes"], "other": ["No"]})
    >>> print(task.render("apple"))
    Is this fruit? Answer yes or no.
    <BLANKLINE>
    Text: apple
    Answer:
    """

    instruction: str
    classes: Mapping[str, Sequence[str]]
    template: str = "Text: {text}\nAnswer:"
    demonstrations: Sequence[tuple[str, str]] = ()
    chat: bool = False
    positive_class: str | None = None
    leading_space: bool = True
    name: str = "task"
    _classes: tuple[tuple[str, tuple[str, ...]], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for c, v in dict(self.classes).items():
            if isinstance(v, str):
                raise TypeError(f"class {c!r}: give a list of verbalizers, e.g. [{v!r}], not a string")
        classes = tuple((str(c), tuple(v)) for c, v in dict(self.classes).items())
        if len(classes) < 2:
            raise ValueError("a ClassificationTask needs at least two classes")
        for c, variants in classes:
            if not c.strip() or "|" in c:
                raise ValueError(f"class name {c!r} must be non-empty and must not contain '|' (it joins prediction sets)")
            if not variants or not all(isinstance(v, str) and v.strip() for v in variants):
                raise ValueError(f"class {c!r} needs at least one non-empty variant string")
        if "{text}" not in self.template:
            raise ValueError("template must contain '{text}'")
        names = [c for c, _ in classes]
        demos = tuple((str(t), str(c)) for t, c in self.demonstrations)
        for _, c in demos:
            if c not in names:
                raise ValueError(f"demonstration class {c!r} is not one of {names}")
        positive = self.positive_class if self.positive_class is not None else names[0]
        if positive not in names:
            raise ValueError(f"positive_class {positive!r} is not one of {names}")
        object.__setattr__(self, "_classes", classes)
        object.__setattr__(self, "classes", {c: v for c, v in classes})
        object.__setattr__(self, "demonstrations", demos)
        object.__setattr__(self, "positive_class", positive)

    # ------------------------------------------------------------------------------------ prompt

    @property
    def class_names(self) -> list[str]:
        """Class names in their declared order."""
        return [c for c, _ in self._classes]

    @property
    def negative_class(self) -> str:
        """The first class that is not `positive_class`."""
        return next(c for c in self.class_names if c != self.positive_class)

    def body(self, text: str) -> str:
        """The prompt's text for `text` before any chat template: instruction, demonstrations, text.

        What a chat task sends as the user's message (`render` wraps it in the template).
        """
        parts = [self.instruction.strip(), ""]
        for demo_text, demo_class in self.demonstrations:
            answer = self.classes[demo_class][0]
            parts += [f"{self.template.format(text=demo_text)} {answer}", ""]
        parts.append(self.template.format(text=text))
        return "\n".join(parts)

    def render(self, text: str, model: Any = None) -> str:
        """The exact string fed to the model for `text`.

        ``model`` (a `confnb.models.LanguageModel` or a tokenizer) is needed only when ``chat=True``.
        """
        body = self.body(text)
        if not self.chat:
            return body
        tokenizer = _tokenizer(model) if model is not None else None
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise ValueError(
                "this task uses chat=True but the model has no chat template; "
                "use a task with chat=False for base models"
            )
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": body}], tokenize=False, add_generation_prompt=True
        )

    def prompt(self, text: str, model: Any = None) -> str:
        """Alias of `render`: the exact prompt string for `text`."""
        return self.render(text, model)

    def split(self, model: Any = None) -> tuple[str, str]:
        """Split the prompt into a shared prefix and a per-text suffix containing ``{text}``.

        The space before the text goes to the suffix: tokenizers attach a leading space to the
        following word, so cutting after the space would change how every text is tokenized.
        """
        rendered = self.render(_SENTINEL, model)
        if rendered.count(_SENTINEL) != 1:
            raise ValueError("the prompt template must show the text exactly once")
        prefix, suffix = rendered.split(_SENTINEL)
        if prefix.endswith(" "):
            prefix, suffix = prefix[:-1], " " + _SENTINEL + suffix
        else:
            suffix = _SENTINEL + suffix
        return prefix, suffix.replace(_SENTINEL, "{text}")

    # ---------------------------------------------------------------------------------- variants

    def variants(self, class_name: str) -> list[str]:
        """All surface forms scored for `class_name`, leading-space forms included."""
        out: list[str] = []
        for v in self.classes[class_name]:
            forms = [v, " " + v] if self.leading_space and not v.startswith(" ") else [v]
            out += [f for f in forms if f not in out]
        return out

    def resolve(self, model: Any) -> VariantResolution:
        """Resolve each class's verbalizers to token sequences of `model`'s tokenizer.

        Every verbalizer is tokenized as it follows the prompt (no special tokens). Identical
        sequences are kept once. Within a class, a verbalizer whose tokens start with another
        verbalizer's tokens is left out with a `MultiTokenVariantWarning`: the shorter one's
        probability already includes it. Across classes, the same sequence or one that starts
        another class's sequence is an error, since its probability would count for both.

        Raises
        ------
        ValueError
            Naming both verbalizers and classes of a clash, or a verbalizer with no tokens.

        Examples
        --------
        >>> res = SENTIMENT.resolve(load_model())      # doctest: +SKIP
        >>> res.skipped["positive"]                    # doctest: +SKIP
        ['YES', ' YES']
        """
        tokenizer = _tokenizer(model)
        kept: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
        skipped: dict[str, list[str]] = {}
        for c in self.class_names:
            found: list[tuple[str, tuple[int, ...]]] = []
            for v in self.variants(c):
                ids = tuple(tokenizer.encode(v, add_special_tokens=False))
                if not ids:
                    raise ValueError(f"verbalizer {v!r} of class {c!r} has no tokens for this tokenizer")
                if all(ids != other for _, other in found):
                    found.append((v, ids))
            keep = [(v, ids) for v, ids in found
                    if not any(len(o) < len(ids) and ids[: len(o)] == o for _, o in found)]
            kept[c] = keep
            skipped[c] = [v for v, ids in found if (v, ids) not in keep]
        owners = [(c, v, ids) for c in self.class_names for v, ids in kept[c]]
        for c, v, ids in owners:
            for d, w, other in owners:
                if d == c or len(other) < len(ids) or other[: len(ids)] != ids:
                    continue
                if other == ids:
                    raise ValueError(
                        f"{v!r} of class {c!r} and {w!r} of class {d!r} are the same tokens {list(ids)}: "
                        "that answer stands for both classes; give each class distinct verbalizers"
                    )
                raise ValueError(
                    f"verbalizer {v!r} of class {c!r} (tokens {list(ids)}) is a prefix of {w!r} of class "
                    f"{d!r} (tokens {list(other)}): its probability would count for both classes; "
                    "rename one of them"
                )
        dropped = [f"{v!r} ({c})" for c in self.class_names for v in skipped[c]]
        if dropped:
            warnings.warn(
                f"left out {', '.join(dropped)}: each starts with the tokens of a shorter verbalizer "
                "of its class, whose probability already includes it",
                MultiTokenVariantWarning,
                stacklevel=2,
            )
        return VariantResolution(
            token_ids={c: [ids[0] for _, ids in kept[c] if len(ids) == 1] for c in self.class_names},
            tokens={c: [v for v, ids in kept[c] if len(ids) == 1] for c in self.class_names},
            skipped=skipped,
            sequences={c: [(v, ids) for v, ids in kept[c] if len(ids) > 1] for c in self.class_names},
        )

    def resolved(self, model: Any) -> VariantResolution:
        """`resolve` without the warning (scoring calls this on every batch)."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MultiTokenVariantWarning)
            return self.resolve(model)

    def token_ids(self, model: Any) -> dict[str, list[int]]:
        """Single-token verbalizer ids per class, e.g. ``{"positive": [...], "negative": [...]}``."""
        return self.resolved(model).token_ids

    def verbalizer_ids(self, model: Any) -> dict[str, list[tuple[str, tuple[int, ...]]]]:
        """Per class, every verbalizer scored and its token ids, single- and multi-token, in order.

        >>> task = ClassificationTask("Topic?", {"card arrival": ["card arrival"], "balance": ["balance"]})
        >>> sorted(task.verbalizer_ids(load_model()))    # doctest: +SKIP
        ['balance', 'card arrival']
        """
        res = self.resolved(model)
        order = {v: k for k, v in enumerate(v for c in self.class_names for v in self.variants(c))}
        return {
            c: sorted([(v, (i,)) for v, i in zip(res.tokens[c], res.token_ids[c])] + list(res.sequences[c]),
                      key=lambda pair: order[pair[0]])
            for c in self.class_names
        }

    # --------------------------------------------------------------------------------- identity

    def to_dict(self) -> dict:
        """A JSON-ready description (saved with adapters and used to key the score cache)."""
        return {
            "name": self.name,
            "instruction": self.instruction,
            "classes": {c: list(v) for c, v in self._classes},
            "template": self.template,
            "demonstrations": [list(d) for d in self.demonstrations],
            "chat": self.chat,
            "positive_class": self.positive_class,
            "leading_space": self.leading_space,
        }

    def to_toml(self) -> str:
        """The task as a TOML task file (`confnb.task_files.load_task` reads it back, equal).

        >>> print(ClassificationTask("Q?", {"yes": ["Yes"], "no": ["No"]}, name="yn").to_toml())
        name = "yn"
        instruction = "Q?"
        template = "Text: {text}\\nAnswer:"
        chat = false
        positive_class = "yes"
        leading_space = true
        <BLANKLINE>
        [classes]
        yes = ["Yes"]
        no = ["No"]
        <BLANKLINE>
        """
        lines = [
            f"name = {toml_string(self.name)}",
            f"instruction = {toml_string(self.instruction)}",
            f"template = {toml_string(self.template)}",
            f"chat = {'true' if self.chat else 'false'}",
            f"positive_class = {toml_string(self.positive_class)}",
            f"leading_space = {'true' if self.leading_space else 'false'}",
            "",
            "[classes]",
        ]
        lines += [f"{toml_key(name)} = [{', '.join(toml_string(v) for v in self.classes[name])}]" for name in self.class_names]
        for text, label in self.demonstrations:
            lines += ["", "[[demonstrations]]", f"text = {toml_string(text)}", f"label = {toml_string(label)}"]
        return "\n".join(lines) + "\n"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ClassificationTask":
        """Rebuild a task from `to_dict` output."""
        data = dict(data)
        data["demonstrations"] = [tuple(d) for d in data.get("demonstrations", ())]
        return cls(**data)

    @property
    def key(self) -> str:
        """A short hash of everything that changes the prompt or the scored tokens."""
        blob = json.dumps(self.to_dict(), sort_keys=True).encode()
        return hashlib.sha1(blob).hexdigest()[:12]


_YES = ("Yes", "yes", "YES", "Y", "y")
_NO = ("No", "no", "NO", "N", "n")
_QUESTION = "Is this text positive in sentiment? Answer yes or no."

#: Zero-shot plain prompt: the question, the text, and an answer cue.
SENTIMENT_ZERO_SHOT = ClassificationTask(
    _QUESTION,
    {"positive": _YES, "negative": _NO},
    name="sentiment-zero-shot",
)

#: Zero-shot prompt wrapped in the model's chat template (SmolLM2's template adds its own default
#: system message when none is given).
SENTIMENT_CHAT = ClassificationTask(
    _QUESTION,
    {"positive": _YES, "negative": _NO},
    template="Text: {text}",
    chat=True,
    name="sentiment-chat",
)

#: Few-shot demonstrations of the default prompt: eight rows of the dataset's train split, picked by
#: the documented rule of `confnb.data.select_demonstrations` (strong/medium/weak rows only, no sports
#: or workplace rows, none sharing a 4-word phrase with a calibration or test row, 4 positive and 4
#: negative from distinct contexts and frames, alternating labels)::
#:
#:     data = load_sentiment()
#:     select_demonstrations(load_sentiment("train"), k=8, rng=0, n_words=4,
#:                           exclude=(data.text[data.split == "calibration"], data.text[data.split == "test"]))
#:
#: Written out here because the package never reads the dataset at import; a test checks that the rule
#: still gives exactly these pairs.
DEMONSTRATIONS = (
    ("The chef's tasting menu is really quite good.", "positive"),
    ("Going to physio hasn't been much fun lately.", "negative"),
    ("Ten out of ten for the gaming console!", "positive"),
    ("The safari wasn't terrible, but it wasn't good either.", "negative"),
    ("My piano teacher was helpful today.", "positive"),
    ("The sequel isn't very good.", "negative"),
    ("Writing my dissertation has its perks, I suppose.", "positive"),
    ("The new shopping centre is a little disappointing, if I'm honest.", "negative"),
)

#: The default sentiment task: a plain eight-shot prompt that ends in a "Positive:" cue. Chosen by
#: measurement on train rows for the embedded model (``benchmarks/prompts.py``; table in the README):
#: zero-shot and chat prompts make SmolLM2-135M answer "No" to almost everything. On 200 stratified
#: train rows the rule-picked demonstrations give accuracy 0.805, AUC 0.879, 47% predicted positive;
#: the handwritten ones they replaced gave 0.790, 0.914 and 55% (no collapse to one class either way).
SENTIMENT = ClassificationTask(
    "Decide whether each text is positive. Answer yes or no.",
    {"positive": _YES, "negative": _NO},
    template="Text: {text}\nPositive:",
    demonstrations=DEMONSTRATIONS,
    name="sentiment",
)


def label_to_class(values: pd.Series, task: ClassificationTask = SENTIMENT) -> pd.Series:
    """Map label values to the task's class names.

    Class names are kept; common spellings of a binary label (1/0, true/false, yes/no, pos/neg,
    fresh/rotten) map to the positive / negative class. Anything else is an error that lists the
    unknown values.

    >>> label_to_class(pd.Series(["1", "negative", "Yes"])).tolist()
    ['positive', 'negative', 'positive']
    """
    names = set(task.class_names)
    out = []
    unknown = set()
    for v in values:
        text = label_text(v) or ""
        if text in names:
            out.append(text)
        elif text.lower() in POSITIVE_SPELLINGS:
            out.append(task.positive_class)
        elif text.lower() in NEGATIVE_SPELLINGS:
            out.append(task.negative_class)
        else:
            out.append(None)
            unknown.add(text)
    if unknown:
        shown = ", ".join(repr(u) for u in sorted(unknown)[:5])
        raise ValueError(
            f"label column has values that are not classes: {shown}. "
            f"Use {sorted(names)} (or 1/0, true/false)."
        )
    return pd.Series(out, index=values.index, dtype=object)
