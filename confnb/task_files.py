"""Classification tasks as TOML files: read one (or a built-in by name), write one back.

A task file holds what `confnb.tasks.ClassificationTask` takes: the instruction, the classes and
their verbalizers (the answer words that stand for each class, in class order), and optionally the
template, few-shot demonstrations, chat, positive_class and leading_space::

    name = "news-topic"
    instruction = "What is the topic of this news headline?"
    template = "Headline: {text}\\nTopic:"
    [classes]
    business = ["business", "economy"]
    sport = ["sport", "sports"]
    tech = ["technology", "science and technology"]
    [[demonstrations]]
    text = "Shares fall after profit warning"
    label = "business"

`load_task` reads a file (or one of `BUILTIN_TASKS`) and checks all of it before building the task:
an unknown key, a missing instruction or class table, a class without verbalizers, the same
verbalizer in two classes, a demonstration label that is not a class or a template without
``{text}`` is a `TaskFileError` naming the file, the key (and its line where it can be found) and
what to write instead. `loads_task` does the same for TOML text, `dump_task` writes a task in this
format (``loads_task(dump_task(task))`` gives the task back).

Out of scope: what the verbalizers are as tokens of a given model (that is
``confnb.tasks.ClassificationTask.verbalizer_ids`` and ``confnb task check``), and scoring.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from .distributions import visible
from .tasks import SENTIMENT, SENTIMENT_CHAT, SENTIMENT_ZERO_SHOT, ClassificationTask, toml_key

__all__ = ["BUILTIN_TASKS", "LONG_LABEL_TOKENS", "TaskFileError", "dump_task", "load_task", "loads_task", "task_check_lines"]

#: Built-in tasks by name: the presets' own names and the CLI's ``--prompt`` choices.
BUILTIN_TASKS: Mapping[str, ClassificationTask] = MappingProxyType({
    SENTIMENT.name: SENTIMENT,
    SENTIMENT_ZERO_SHOT.name: SENTIMENT_ZERO_SHOT,
    SENTIMENT_CHAT.name: SENTIMENT_CHAT,
    "default": SENTIMENT,
    "zero-shot": SENTIMENT_ZERO_SHOT,
    "chat": SENTIMENT_CHAT,
})

_OPTIONAL = {"name": str, "template": str, "chat": bool, "positive_class": str, "leading_space": bool}
_KEYS = ("name", "instruction", "template", "chat", "positive_class", "leading_space", "classes", "demonstrations")
_TYPE_NAMES = {str: "a string", bool: "true or false"}


class TaskFileError(ValueError):
    """A task file that cannot be read as a task; the message names the file, the key and the fix."""


# ------------------------------------------------------------------------------------------ reading


def load_task(task: str | os.PathLike) -> ClassificationTask:
    """Read a task from a TOML file, or return a built-in task by name.

    Parameters
    ----------
    task : str or path
        A name in `BUILTIN_TASKS` (``"sentiment"``, ``"sentiment-zero-shot"``,
        ``"sentiment-chat"``, and the CLI's ``"default"``, ``"zero-shot"``, ``"chat"``), or the path
        of a ``.toml`` task file (see the module docstring for the format). A name wins over a file
        of the same name; write ``./sentiment`` for such a file.

    Returns
    -------
    ClassificationTask
        Without a ``name`` key the task is named after the file's stem.

    Raises
    ------
    TaskFileError
        If the file does not exist, is not valid TOML (the message has tomllib's line and column) or
        does not describe a task; the message names the file, the key and what is expected. Nothing
        half-read is returned.

    Examples
    --------
    >>> load_task("zero-shot").name
    'sentiment-zero-shot'
    """
    if isinstance(task, str) and task in BUILTIN_TASKS:
        return BUILTIN_TASKS[task]
    path = Path(task)
    if not path.is_file():
        raise TaskFileError(
            f"task file {str(task)!r} does not exist; pass a .toml task file or one of the built-in tasks "
            f"{', '.join(BUILTIN_TASKS)}"
        )
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TaskFileError(f"{path}: not valid UTF-8 ({exc}); save the task file as UTF-8") from exc
    return loads_task(text, source=str(path), default_name=path.stem)


def loads_task(text: str, *, source: str = "<string>", default_name: str = "task") -> ClassificationTask:
    """Build a task from TOML text in the format `load_task` reads.

    `source` names the text in error messages; `default_name` is the task's name when it has no
    ``name`` key.

    >>> task = loads_task('instruction = "Fruit?"\\n[classes]\\nfruit = ["yes"]\\nother = ["no"]')
    >>> task.class_names, task.template
    (['fruit', 'other'], 'Text: {text}\\nAnswer:')
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TaskFileError(f"{source}: not valid TOML: {exc}; fix the file's syntax there") from exc
    return _task_from(data, _Where(source, text), default_name)


class _Where:
    """Names a key in error messages: the source, its line when a simple scan finds it, the key path."""

    def __init__(self, source: str, text: str):
        self.source = source
        self.lines = text.splitlines()

    def _line(self, table: str | None, key: str | None, index: int | None = None) -> int | None:
        """Line (1-based) of `key` in `table` (the `index`-th ``[[table]]`` when given), or None."""
        current: str | None = None
        seen = -1
        header = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
        assign = re.compile(r"\s*(" + re.escape(key or "") + r'|"' + re.escape(key or "") + r'"|\'' + re.escape(key or "") + r"')\s*=")
        for number, line in enumerate(self.lines, start=1):
            match = header.match(line)
            if match:
                current = match.group(1).strip("\"'")
                if current == table:
                    seen += 1
                    if key is None and (index is None or seen == index):
                        return number
                continue
            if key is not None and current == table and (index is None or seen == index) and assign.match(line):
                return number
        return None

    def error(self, path: str, fault: str, *, table: str | None = None, key: str | None = None,
              index: int | None = None) -> TaskFileError:
        line = self._line(table, key, index)
        at = f"{self.source}, line {line}" if line else self.source
        return TaskFileError(f"{at}: {path}: {fault}")


def _task_from(data: dict[str, Any], where: _Where, default_name: str) -> ClassificationTask:
    for key in data:
        if key not in _KEYS:
            raise where.error(key, f"unknown key; a task file has only {', '.join(_KEYS)}", key=key)
    if "instruction" not in data:
        raise where.error("instruction", 'missing; add the question put to the model, e.g. instruction = "What is the topic?"')
    instruction = data["instruction"]
    if not isinstance(instruction, str) or not instruction.strip():
        raise where.error("instruction", "expected a non-empty string", key="instruction")
    for key, kind in _OPTIONAL.items():
        if key in data and type(data[key]) is not kind:
            raise where.error(key, f"expected {_TYPE_NAMES[kind]}, got {data[key]!r}", key=key)

    classes = _classes(data, where)
    if "template" in data:
        _check_template(data["template"], where)
    demonstrations = _demonstrations(data, classes, where)
    positive = data.get("positive_class")
    if positive is not None and positive not in classes:
        raise where.error("positive_class", f"{positive!r} is not a class; use one of {list(classes)}", key="positive_class")
    _check_clashes(classes, data.get("leading_space", True), where)
    options = {key: data[key] for key in _OPTIONAL if key in data}
    options.setdefault("name", default_name)
    try:
        return ClassificationTask(instruction, classes, demonstrations=demonstrations, **options)
    except ValueError as exc:  # a rule of ClassificationTask this reader does not check itself
        raise TaskFileError(f"{where.source}: {exc}") from exc


def _classes(data: dict[str, Any], where: _Where) -> dict[str, list[str]]:
    example = '[classes]\nbusiness = ["business", "economy"]\nsport = ["sport"]'
    if "classes" not in data:
        raise where.error("classes", f"missing; add a [classes] table, one class per line in class order:\n{example}")
    table = data["classes"]
    if not isinstance(table, dict):
        raise where.error("classes", f"expected a table of class = [verbalizers], e.g.\n{example}", key="classes")
    if len(table) < 2:
        raise where.error("classes", f"has {len(table)} class(es); a task needs at least two", table="classes")
    out: dict[str, list[str]] = {}
    for name, variants in table.items():
        ok = isinstance(variants, list) and variants and all(isinstance(v, str) and v.strip() for v in variants)
        if not ok:
            raise where.error(
                f"classes.{name}",
                f"expected a non-empty list of non-empty strings (the answer words for {name!r}), got {variants!r}; "
                f'e.g. {toml_key(name)} = ["{name}"]',
                table="classes", key=name,
            )
        out[name] = list(variants)
    return out


def _check_template(template: str, where: _Where) -> None:
    if "{text}" not in template:
        raise where.error("template", f"{template!r} has no {{text}}; write where the text goes, e.g. "
                          '"Text: {text}\\nAnswer:"', key="template")
    try:
        template.format(text="")
    except (KeyError, IndexError, ValueError) as exc:
        raise where.error("template", f"{template!r} has a brace that is not {{text}} ({exc}); "
                          "write a literal brace as {{ or }}", key="template") from exc


def _demonstrations(data: dict[str, Any], classes: Mapping[str, list[str]], where: _Where) -> list[tuple[str, str]]:
    items = data.get("demonstrations", [])
    example = '[[demonstrations]]\ntext = "Shares fall after profit warning"\nlabel = "business"'
    if not isinstance(items, list) or not all(isinstance(d, dict) for d in items):
        raise where.error("demonstrations", f"expected [[demonstrations]] tables, each with text and label:\n{example}",
                          key="demonstrations")
    out = []
    for i, demo in enumerate(items):
        at = f"demonstrations[{i + 1}]"
        for key in demo:
            if key not in ("text", "label"):
                raise where.error(f"{at}.{key}", "unknown key; a demonstration has only text and label",
                                  table="demonstrations", key=key, index=i)
        for key in ("text", "label"):
            if not isinstance(demo.get(key), str) or not demo[key].strip():
                found = "missing" if key not in demo else f"got {demo[key]!r}"
                raise where.error(f"{at}.{key}", f"expected a non-empty string, {found}:\n{example}",
                                  table="demonstrations", key=key if key in demo else None, index=i)
        if demo["label"] not in classes:
            raise where.error(f"{at}.label", f"{demo['label']!r} is not a class; use one of {list(classes)}",
                              table="demonstrations", key="label", index=i)
        out.append((demo["text"], demo["label"]))
    return out


def _check_clashes(classes: Mapping[str, list[str]], leading_space: bool, where: _Where) -> None:
    """The same verbalizer (as scored: with its leading-space form) in two classes is an error."""
    owner: dict[str, tuple[str, str]] = {}
    for name, variants in classes.items():
        for v in variants:
            forms = [v, " " + v] if leading_space and not v.startswith(" ") else [v]
            for form in forms:
                if form in owner and owner[form][0] != name:
                    other, written = owner[form]
                    raise where.error(
                        f"classes.{name}",
                        f"verbalizer {v!r} of class {name!r} is also one of class {other!r} (as {written!r}); "
                        "an answer can stand for one class only: remove it from one of them",
                        table="classes", key=name,
                    )
                owner.setdefault(form, (name, v))


# ------------------------------------------------------------------------------------------ writing


def dump_task(task: ClassificationTask) -> str:
    """The task as TOML text in the format `load_task` reads, every field written out.

    Parameters
    ----------
    task : ClassificationTask

    Returns
    -------
    str
        TOML: the scalar keys, then ``[classes]`` in class order, then one ``[[demonstrations]]``
        table per demonstration. Write it to a ``.toml`` file to edit or share the task.

    Examples
    --------
    >>> task = ClassificationTask('Say "yes" or "no".', {"yes": ["Yes"], "no": ["No"]}, name="yn")
    >>> print(dump_task(task))
    name = "yn"
    instruction = "Say \\"yes\\" or \\"no\\"."
    template = "Text: {text}\\nAnswer:"
    chat = false
    positive_class = "yes"
    leading_space = true
    <BLANKLINE>
    [classes]
    yes = ["Yes"]
    no = ["No"]
    <BLANKLINE>
    >>> loads_task(dump_task(task)).to_dict() == task.to_dict()
    True
    """
    return task.to_toml()


# ------------------------------------------------------------------------------------- checking

#: a verbalizer longer than this many tokens gets a warning from ``confnb task check``
LONG_LABEL_TOKENS = 6


def _dropped_reason(tokenizer, variant: str, kept: list[tuple[str, tuple[int, ...]]]) -> str:
    """Why `variant` is not among a class's `kept` (string, ids) pairs: the kept one it clashes with."""
    ids = tuple(tokenizer.encode(variant, add_special_tokens=False))
    for other, other_ids in kept:
        if ids == other_ids:
            return f"same tokens as {other!r}"
        if ids[: len(other_ids)] == other_ids:
            return f"starts with the tokens of {other!r}, whose probability already includes it"
    return "left out by the task"


def task_check_lines(task: ClassificationTask, lm: Any, model_name: str, text: str) -> list[str]:
    """What ``confnb task check`` prints: the prompt for `text` and every verbalizer's tokens, then warnings.

    Raises ValueError (from the task) when two classes' answers clash.
    """

    tokenizer = getattr(lm, "tokenizer", lm)
    resolved = task.verbalizer_ids(lm)  # before printing anything: a clash between classes is an error
    prompt = task.render(text, lm)
    rule = "-" * 60
    lines = [
        f"task {task.name!r}: {len(task.class_names)} classes, tokens of {model_name}",
        f"prompt for {text!r} ({len(tokenizer.encode(prompt, add_special_tokens=False))} tokens), between the rules:",
        rule, *prompt.split("\n"), rule,
    ]
    warned: list[str] = []
    for c in task.class_names:
        kept = [(v, tuple(ids)) for v, ids in resolved[c]]
        lines.append(f"class {c!r}{' (positive class)' if c == task.positive_class else ''}: {len(kept)} verbalizers")
        width = max(len(repr(v)) for v, _ in kept)
        for v, ids in kept:
            shown = " ".join(repr(visible(tokenizer.decode([i]))) for i in ids)
            lines.append(f"  {repr(v):<{width}}  {len(ids)} token{'' if len(ids) == 1 else 's'} {list(ids)}  {shown}")
            if len(ids) > LONG_LABEL_TOKENS:
                warned.append(f"class {c!r}: {v!r} is {len(ids)} tokens long (over {LONG_LABEL_TOKENS}); its probability "
                              "is a product of many factors and comes out tiny: use a shorter verbalizer")
        names = {v for v, _ in kept}
        for v in task.variants(c):
            if v not in names:
                warned.append(f"class {c!r}: {v!r} dropped: {_dropped_reason(tokenizer, v, kept)}")
    return lines + ([f"warning: {w}" for w in warned] or ["no warnings"])
