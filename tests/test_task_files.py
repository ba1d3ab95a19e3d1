"""Task files: TOML round trips for the built-in and a K=3 multi-word task, built-in names, every bad file."""

import pytest

from confnb import tasks
from confnb.task_files import BUILTIN_TASKS, TaskFileError, dump_task, load_task, loads_task
from confnb.tasks import ClassificationTask

NEWS = """\
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
"""

TRICKY = ClassificationTask(
    'Pick the "best" route.\nAnswer with C:\\paths or a tab\there; bell \x07, del \x7f, é, 日本',
    {"card arrival": ["card arrival", 'the "card" came'], "top up": ["top up", "top-up\\"], "other": ["other"]},
    template="Q\r\n{text}\fA:\b",
    demonstrations=(("my card hasn't come", "card arrival"), ("add £10\n\tplease", "top up")),
    chat=True,
    positive_class="top up",
    leading_space=False,
    name="bank [K=3]",
)


def write(tmp_path, text, name="task.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def same(a, b):
    return a.to_dict() == b.to_dict() and a.class_names == b.class_names and a == b


@pytest.mark.parametrize("task", [tasks.SENTIMENT, tasks.SENTIMENT_CHAT, tasks.SENTIMENT_ZERO_SHOT, TRICKY],
                         ids=lambda t: t.name)
def test_dump_then_load_gives_the_task_back(tmp_path, task):
    assert same(loads_task(dump_task(task)), task)
    path = write(tmp_path, dump_task(task))
    assert same(load_task(path), task) and same(load_task(str(path)), task)


def test_the_documented_format_reads_as_written(tmp_path):
    task = load_task(write(tmp_path, NEWS))
    assert task.name == "news-topic" and task.class_names == ["business", "sport", "tech"]
    assert task.classes["tech"] == ("technology", "science and technology")
    assert task.template == "Headline: {text}\nTopic:" and task.demonstrations == (("Shares fall after profit warning", "business"),)
    assert task.positive_class == "business" and task.chat is False and task.leading_space is True
    assert same(loads_task(dump_task(task)), task)


def test_defaults_and_the_name_from_the_file(tmp_path):
    task = load_task(write(tmp_path, 'instruction = "Fruit?"\n[classes]\nfruit = ["yes"]\nother = ["no"]\n', "fruit.toml"))
    plain = ClassificationTask("Fruit?", {"fruit": ["yes"], "other": ["no"]}, name="fruit")
    assert same(task, plain)


def test_builtin_names_and_cli_presets():
    for name in ("sentiment", "sentiment-chat", "sentiment-zero-shot"):
        assert load_task(name).name == name
    assert load_task("default") is tasks.SENTIMENT
    assert load_task("zero-shot") is tasks.SENTIMENT_ZERO_SHOT
    assert load_task("chat") is tasks.SENTIMENT_CHAT
    assert set(BUILTIN_TASKS) == {"sentiment", "sentiment-chat", "sentiment-zero-shot", "default", "zero-shot", "chat"}


def test_dump_escapes_every_control_character():
    text = dump_task(TRICKY)
    assert "\\u0007" in text and "\\u007F" in text and '"bank [K=3]"' in text
    assert '"card arrival" = ["card arrival", "the \\"card\\" came"]' in text
    assert '"top up" = ["top up", "top-up\\\\"]' in text
    assert all(ord(ch) >= 0x20 and ch != "\x7f" for line in text.splitlines() for ch in line)


GOOD_CLASSES = '[classes]\na = ["yes"]\nb = ["no"]\n'


@pytest.mark.parametrize(
    "text, message",
    [
        ('instruction = "x"\ncolour = "red"\n' + GOOD_CLASSES, r"task\.toml, line 2: colour: unknown key; a task file has only name, instruction"),
        (GOOD_CLASSES, r"task\.toml: instruction: missing; add the question"),
        ('instruction = "  "\n' + GOOD_CLASSES, r"line 1: instruction: expected a non-empty string"),
        ('instruction = "x"\n', r"classes: missing; add a \[classes\] table"),
        ('instruction = "x"\nclasses = ["a", "b"]\n', r"line 2: classes: expected a table"),
        ('instruction = "x"\n[classes]\na = ["yes"]\n', r"classes: has 1 class\(es\); a task needs at least two"),
        ('instruction = "x"\n[classes]\na = ["yes"]\nb = []\n', r"line 4: classes\.b: expected a non-empty list of non-empty strings"),
        ('instruction = "x"\n[classes]\na = ["yes"]\nb = ["no", 3]\n', r"line 4: classes\.b: .*got \['no', 3\]"),
        ('instruction = "x"\n[classes]\na = ["yes"]\nb = "no"\n', r"line 4: classes\.b: expected a non-empty list"),
        ('instruction = "x"\n[classes]\na = ["yes", "ok"]\nb = ["no", "ok"]\n',
         r"line 4: classes\.b: verbalizer 'ok' of class 'b' is also one of class 'a'"),
        # with leading_space, " ok" is scored for "ok": the same answer
        ('instruction = "x"\n[classes]\na = ["ok"]\nb = [" ok"]\n', r"verbalizer ' ok' of class 'b' is also one of class 'a' \(as 'ok'\)"),
        ('instruction = "x"\n' + GOOD_CLASSES + '[[demonstrations]]\ntext = "t"\nlabel = "a"\n[[demonstrations]]\ntext = "u"\nlabel = "c"\n',
         r"line 10: demonstrations\[2\]\.label: 'c' is not a class; use one of \['a', 'b'\]"),
        ('instruction = "x"\n' + GOOD_CLASSES + '[[demonstrations]]\ntext = "t"\n', r"demonstrations\[1\]\.label: expected a non-empty string, missing"),
        ('instruction = "x"\n' + GOOD_CLASSES + '[[demonstrations]]\ntext = "t"\nlabel = "a"\nweight = 2\n',
         r"line 8: demonstrations\[1\].weight: unknown key"),
        ('instruction = "x"\ntemplate = "Q: {txt}"\n' + GOOD_CLASSES, r"line 2: template: 'Q: \{txt\}' has no \{text\}"),
        ('instruction = "x"\ntemplate = "{text} {"\n' + GOOD_CLASSES, r"line 2: template: .* brace that is not \{text\}.*\{\{"),
        ('instruction = "x"\nchat = "no"\n' + GOOD_CLASSES, r"line 2: chat: expected true or false, got 'no'"),
        ('instruction = "x"\npositive_class = "c"\n' + GOOD_CLASSES, r"line 2: positive_class: 'c' is not a class"),
        ('instruction = "x"\n[classes\n', r"task\.toml: not valid TOML: .*\(at line 2, column \d+\)"),
        ('instruction = "x"\n[classes]\na = ["yes"]\na = ["no"]\n', r"not valid TOML: .*line 4"),
    ],
)
def test_a_bad_file_names_the_file_the_key_and_the_fix(tmp_path, text, message):
    with pytest.raises(TaskFileError, match=message):
        load_task(write(tmp_path, text))


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(TaskFileError, match=r"'nope\.toml' does not exist.*sentiment, sentiment-zero-shot"):
        load_task("nope.toml")
    with pytest.raises(TaskFileError, match="does not exist"):
        load_task(tmp_path)  # a folder
    path = tmp_path / "latin.toml"
    path.write_bytes('instruction = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(TaskFileError, match=r"latin\.toml: not valid UTF-8"):
        load_task(path)


def test_task_file_error_is_a_value_error():
    assert issubclass(TaskFileError, ValueError)
