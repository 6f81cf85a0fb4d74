"""Turn jsonargparse's nested, multi-line parse errors into one line that names the fix."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonargparse import ArgumentParser

_NOISE = (
    "Does not validate against any of the Union subtypes",
    "Subtypes:",
    "Errors:",
    "Given value",
    "- Expected a <class 'NoneType'>",
)
_PLUGIN_KEYS = {"backbone": "backbone", "hypernet": "hypernet", "teacher": "teacher", "task": "task"}


def _known_plugins(kind: str) -> str:
    from inrzoo.registry import all_registries

    registry = all_registries()[kind]
    return ", ".join(f"{info.target.__name__} ({info.name})" for info in registry.entries()) or "none"


def _arg_naming(option: str, argv: Sequence[str]) -> str | None:
    """The command-line argument that set ``option`` (jsonargparse's nested errors drop the key)."""
    for arg in argv:
        key = arg.split("=", 1)[0]
        if key.startswith("--") and key.rsplit(".", 1)[-1] == option:
            return key[2:]
    return None


_SIMPLE_FORMS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "text",
    "NoneType": "null",
    "tuple": "a list such as [3,4]",
    "list": "a list such as [a,b]",
    "dict": "a mapping",
}
_NUMBER_LIST = re.compile(r"\s*-?\d+(\s*,\s*-?\d+)+\s*")


def _form(type_text: str) -> str:
    """``"<class 'int'>"`` -> ``"an integer"``; ``"tuple[int, int]"`` -> ``"a list of 2 integers such as [3,4]"``."""
    text = type_text.strip()
    simple = re.fullmatch(r"<class '(?:[\w.]+\.)?(\w+)'>", text)
    if simple:
        return _SIMPLE_FORMS.get(simple.group(1), simple.group(1))
    generic = re.fullmatch(r"(?:typing\.)?(\w+)\[(.*)\]", text)
    if generic and generic.group(1) in {"tuple", "list", "Sequence"}:
        items = [item.strip() for item in generic.group(2).split(",")]
        noun = {"int": "integers", "float": "numbers", "str": "names"}.get(items[0], "items")
        if items[-1] == "..." or generic.group(1) != "tuple":
            return f"a list of {noun} such as [3,4]"
        return f"a list of {len(items)} {noun} such as [{','.join(str(3 + i) for i in range(len(items)))}]"
    return text


def _wrong_form(details: list[str], subtypes: str | None, given: str | None) -> tuple[str, str] | None:
    """(value, expected form) when the problem is only the value's form (an int key given 'abc')."""
    got = next((m.group(1) for d in details if (m := re.search(r"Got value: (.*)$", d))), given)
    choices = next((m.group(1) for d in details if (m := re.match(r"Expected a typing\.Literal\[(.*)\]", d))), None)
    if choices is not None:
        return got if got is not None else "?", f"one of {choices}"
    length = next((m.group(1) for d in details if (m := re.match(r"Expected a tuple with (\d+) elements", d))), None)
    if length is not None:
        return (
            got if got is not None else "?",
            f"a list of {length} items such as [{','.join(map(str, range(3, 3 + int(length))))}]",
        )
    expected = [m.group(1) for d in details if (m := re.match(r"Expected a (<class '[^']+'>)", d))]
    if not expected:
        return None
    if subtypes:  # a Union (``tuple[int, int] | None``): every form it takes
        expected = [s for s in re.split(r",\s*(?![^\[]*\])", subtypes.strip()[1:-1]) if s.strip()]
    forms = " or ".join(dict.fromkeys(_form(e) for e in expected))
    if got is not None and _NUMBER_LIST.fullmatch(got):  # "320,640": the fix is the same numbers in brackets
        forms = forms.replace("such as [3,4]", f"such as [{got.replace(' ', '')}]")
    return got if got is not None else "?", forms


def bracket_number_lists(argv: Sequence[str], options: Sequence[str]) -> list[str]:
    """``--resize 320,640`` (or ``--resize=320,640``) -> ``--resize [320,640]``: the form a shell user types
    for a list option, which the parser reads only with brackets."""
    out: list[str] = []
    for index, arg in enumerate(argv):
        key, equals, value = arg.partition("=")
        if equals and key in options and _NUMBER_LIST.fullmatch(value):
            arg = f"{key}=[{value.replace(' ', '')}]"
        elif index > 0 and argv[index - 1] in options and _NUMBER_LIST.fullmatch(arg):
            arg = f"[{arg.replace(' ', '')}]"
        out.append(arg)
    return out


def condense_parser_error(message: str, argv: Sequence[str] = (), help_command: str = "inrzoo fit --help") -> str:
    """One line: the dotted config key, the innermost problem, and what to do (``help_command`` lists the keys)."""
    keys: list[str] = []
    class_path: str | None = None
    details: list[str] = []
    subtypes: str | None = None
    given: str | None = None
    for raw in message.splitlines():
        line = raw.strip()
        if line.startswith("Subtypes:"):
            subtypes = line.removeprefix("Subtypes:").strip()
        elif line.startswith("Given value:"):
            given = line.removeprefix("Given value:").strip()
        if not line or line.startswith(_NOISE):
            continue
        key = re.match(r'Parser key "([^"]+)":?\s*(.*)', line)
        if key:
            keys.append(key.group(1))
            details = [key.group(2)] if key.group(2) else []
            subtypes = given = None
            continue
        problem = re.match(r"-?\s*Problem with given class_path '([^']+)'", line)
        if problem:
            class_path = problem.group(1)
            continue
        details.append(line.lstrip("- ").strip())
    if not keys:
        first = message.strip().splitlines()[0] if message.strip() else "invalid arguments"
        option = re.match(r"Option '([^']+)' is not accepted", first)
        full_key = _arg_naming(option.group(1), argv) if option else None
        if full_key:
            return f"config key {full_key} does not exist (run `{help_command}` to see the keys that exist)"
        missing = re.match(r"argument (\S+?)(?:/\S+)?: expected one argument", first)
        if missing:  # argparse takes a value such as -1e300 for another option
            return f"{missing.group(1)} needs a value (write {missing.group(1)}=VALUE when the value starts with -)"
        return f"{first} (run `{help_command}` to see the keys that exist)"
    dotted = ".".join(keys)
    preferred = [d for d in details if "not accepted" in d or "import path" in d or "not found" in d]
    detail = (preferred or details or ["invalid value"])[0]
    leaf = keys[-1]
    import_problem = any("import path" in d or "not accessible" in d or "subclass" in d for d in details)
    if leaf in _PLUGIN_KEYS and import_problem:
        value = next((d.split(":", 1)[1].strip() for d in details if "import path string:" in d), "?")
        return (
            f"config key {dotted}: {value!r} is not a known {leaf}; known: {_known_plugins(_PLUGIN_KEYS[leaf])} "
            "(use the class name or its full import path as class_path)"
        )
    wrong_form = None if preferred or import_problem else _wrong_form(details, subtypes, given)
    if wrong_form is not None:  # the key exists: say what form its value takes, under the key as typed
        typed = _arg_naming(leaf, argv) if "." not in dotted else None
        value, form = wrong_form
        return f"config key {typed or dotted}: got {value!r}, expected {form}"
    where = f" ({class_path})" if class_path and "not accepted" in detail else ""
    return f"config key {dotted}{where}: {detail} (run `{help_command}` to see the keys that exist)"


def one_line_parser(prog: str, description: str, argv: Sequence[str], **kwargs: Any) -> ArgumentParser:
    """A jsonargparse parser for one of inrzoo's own commands whose errors are one line and exit code 2."""
    from jsonargparse import ArgumentParser

    class OneLineErrors(ArgumentParser):
        def error(self, message: str, ex: Exception | None = None):  # noqa: ANN201 - NoReturn
            if os.environ.get("INRZOO_DEBUG"):
                print(message, file=sys.stderr)
            print(f"inrzoo: error: {condense_parser_error(message, argv, f'{prog} --help')}", file=sys.stderr)
            raise SystemExit(2)

    return OneLineErrors(prog=prog, description=description, default_config_files=[], **kwargs)
