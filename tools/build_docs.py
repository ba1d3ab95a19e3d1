"""Build the API reference (pdoc, numpydoc docstrings) into docs/_build/ and fail on broken cross-references.

    python tools/build_docs.py [--output DIR] [--no-check]

pdoc turns a name in single backticks into a link when it can resolve it (`confnb.classify`,
`FineTuneConfig`, a name defined or imported in the same module); anything else stays plain code.
Plain code is right for a column, a parameter or a file name (`p_positive`, `rng`, `metrics.json`),
and wrong for something that is meant to be followed. After building, this script reads every
docstring in the generated HTML and fails (exit 1), listing file and text, when a backticked span that
*looks like a reference to confnb* was left unlinked:

* a dotted name starting with ``confnb.``;
* a name followed by ``()`` (a call: ``cross_calibrate()``);
* a CamelCase name or ``Class.member`` (classes, warnings, dataclass fields);
* a bare name of a public confnb function or class exported by ``confnb`` (``classify`` written in a
  module that neither defines nor imports it), except names that are also common parameter or column
  names (`AMBIGUOUS`).

Names of other libraries (``numpy.``, ``pandas.``, ``torch.``, peft's ``LoraConfig`` ...) and Python's
builtins are not references to check. pdoc's own warnings are errors too.
"""

from __future__ import annotations

import argparse
import builtins
import html
import pkgutil
import re
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: Names of other libraries that docstrings mention in backticks; not confnb cross-references.
EXTERNAL = ("numpy.", "pandas.", "functools.", "torch.", "transformers.", "peft.", "matplotlib.", "scipy.", "sklearn.",
            "ax.", "fig.")
EXTERNAL_NAMES = {"LoraConfig", "TrainingArguments", "AutoModelForCausalLM", "AutoTokenizer", "BitsAndBytesConfig",
                  "DataFrame", "Series", "Generator", "Axes", "Figure", "PreTrainedTokenizerBase", "PeftModel",
                  "OPENAI_API_KEY", "YES", "ES"}

#: Public function names that docstrings also use, rightly, as a parameter or a column name.
AMBIGUOUS = {"device", "calibrated_prediction"}

IDENT = re.compile(r"[A-Za-z_][\w.]*(\(\))?")


def modules() -> list[str]:
    import confnb

    names = ["confnb"]
    for info in pkgutil.iter_modules(confnb.__path__):
        if not info.name.startswith("_"):
            names.append(f"confnb.{info.name}")
    return names


def public_names() -> set[str]:
    """Functions and classes that ``import confnb`` exports (``confnb.__all__``)."""
    import confnb

    return {n for n in confnb.__all__ if callable(getattr(confnb, n, None))} - AMBIGUOUS


def is_reference(text: str, public: set[str]) -> bool:
    bare = text.removesuffix("()")
    if bare.startswith(EXTERNAL) or bare.split(".")[0] in EXTERNAL_NAMES or hasattr(builtins, bare):
        return False
    if bare.startswith("confnb.") or text.endswith("()"):
        return True
    head = bare.split(".")[0]
    if head[:1].isupper() and any(c.islower() for c in head) and not head.isupper():
        return True
    return bare in public


def broken_references(out: Path, public: set[str]) -> list[tuple[str, str]]:
    found = []
    for page in sorted(out.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        for doc in re.findall(r'<div class="docstring">(.*?)</div>', text, re.S):
            doc = re.sub(r"<pre.*?</pre>", "", doc, flags=re.S)  # examples and code blocks
            for span in re.findall(r"<code>([^<]*)</code>", doc):  # linked spans hold an <a>
                span = html.unescape(span)
                if IDENT.fullmatch(span) and is_reference(span, public):
                    found.append((str(page.relative_to(out)), span))
    return sorted(set(found))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "docs" / "_build"))
    parser.add_argument("--no-check", action="store_true", help="build only; do not check cross-references")
    args = parser.parse_args(argv)

    import pdoc
    import pdoc.render

    out = Path(args.output)
    mods = modules()
    start = time.perf_counter()
    pdoc.render.configure(docformat="numpy", footer_text="confnb API reference")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # confnb/__init__ lists the function `finetune` in __all__, so pdoc reaches the module of that
        # name on its own; naming it again would only repeat it.
        pdoc.pdoc(*[m for m in mods if m != "confnb.finetune"], output_directory=out)
    pdoc_warnings = [str(w.message) for w in caught if "pdoc" in (w.filename or "")]
    seconds = time.perf_counter() - start
    pages = len(list(out.rglob("*.html")))
    print(f"API reference: {pages} pages in {out} ({seconds:.1f} s)")
    failed = False
    for message in pdoc_warnings:
        print(f"pdoc warning: {message}")
        failed = True
    if not args.no_check:
        broken = broken_references(out, public_names())
        for page, span in broken:
            print(f"broken cross-reference: {page}: `{span}`")
        if broken:
            print(f"{len(broken)} broken cross-reference(s): write the full name (`confnb.module.name`) or import it")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
