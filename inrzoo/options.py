"""Allowed ranges of the numeric options of inrzoo's classes, checked where the option is read.

A class lists its ranges once, in ``option_ranges``, and its constructor calls :func:`check_options`, so a
Python user gets the same one-line :class:`OptionError` as the CLI, which checks a parsed config against
the same tables before anything is built (and can then name the whole config key). A value outside its
range would otherwise surface much later as a torch traceback, or train quietly on nonsense (a negative
learning rate).
"""

from __future__ import annotations

import math
import numbers as abstract_numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from inrzoo.errors import InrzooError

#: Widths, channels and hidden sizes above this are a typo, not a model this project can fit.
MAX_WIDTH = 8192
#: Frames, steps and other counts.
MAX_COUNT = 10**9


class OptionError(InrzooError):
    """A value outside its option's range: names the option, the value and what is allowed."""

    def __init__(self, key: str, value: object, expected: str) -> None:
        self.key, self.value, self.expected = key, value, expected
        super().__init__(f"{key}: got {_shown(value)}, expected {expected}")


def _shown(value: object) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(map(_shown, value)) + "]"
    return repr(value) if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Range:
    """The numbers an option may take: ``low``..``high`` (``low_open``/``high_open``: the bound itself is
    excluded); ``integer``: whole numbers only; ``or_none``: None too; ``each``: a non-empty list of them."""

    low: float | None = None
    high: float | None = None
    integer: bool = False
    low_open: bool = False
    high_open: bool = False
    or_none: bool = False
    each: bool = False

    def optional(self) -> Range:
        return replace(self, or_none=True)

    def per_item(self) -> Range:
        return replace(self, each=True)

    def _number_allowed(self, value: object) -> bool:
        # The abstract types, so numpy's and torch's scalars count too; a bool is a switch, not a number.
        if isinstance(value, bool) or not isinstance(value, abstract_numbers.Real) or type(value).__name__ == "bool_":
            return False
        if self.integer and not isinstance(value, abstract_numbers.Integral):
            return False
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def allows(self, value: object) -> bool:
        if value is None:
            return self.or_none
        if self.each:
            return isinstance(value, list | tuple) and len(value) > 0 and all(map(self._number_allowed, value))
        return self._number_allowed(value)

    def describe(self) -> str:
        """What is allowed, as words: 'an integer from 1 to 8192', 'a finite number > 0', ..."""
        noun = "an integer" if self.integer else "a finite number"
        if self.low is not None and self.high is not None and not (self.low_open or self.high_open):
            text = f"{noun} from {_bound(self.low)} to {_bound(self.high)}"
        elif self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            text = f"{noun} in {left}{_bound(self.low)}, {_bound(self.high)}{right}"
        elif self.low is not None:
            text = f"{noun} {'>' if self.low_open else '>='} {_bound(self.low)}"
        elif self.high is not None:
            text = f"{noun} {'<' if self.high_open else '<='} {_bound(self.high)}"
        else:
            text = noun
        if self.each:
            text = f"a non-empty list, each {text}"
        return f"{text} or null" if self.or_none else text


def _bound(number: float) -> str:
    if float(number).is_integer() and abs(number) >= 10_000:
        return f"{int(number):_}".replace("_", ",")
    return f"{number:g}"


def integers(low: int = 1, high: int = MAX_COUNT) -> Range:
    """Whole numbers from ``low`` to ``high``."""
    return Range(low=low, high=high, integer=True)


def numbers(
    low: float | None = None, high: float | None = None, *, low_open: bool = False, high_open: bool = False
) -> Range:
    """Finite numbers between the bounds (NaN and infinities are never allowed)."""
    return Range(low=low, high=high, low_open=low_open, high_open=high_open)


#: Shared ranges, so equal options read alike everywhere.
WIDTH = integers(1, MAX_WIDTH)
COUNT = integers(1, MAX_COUNT)
NON_NEGATIVE_COUNT = integers(0, MAX_COUNT)
#: A learning rate. A large finite one is allowed: the divergence guard stops that fit with a message that
#: names the rate (tests/test_divergence.py fits at 1e6 to show it).
LEARNING_RATE = numbers(0, 1e6, low_open=True)
#: A share of something, 0 and 1 included.
FRACTION = numbers(0, 1)
#: A loss weight or other scale factor: 0 turns it off.
WEIGHT = numbers(0, 1e6)
#: A frame side in pixels.
PIXELS = integers(1, 16_384)
#: A conv kernel side.
KERNEL = integers(1, 63)
#: An upsampling factor.
STRIDE = integers(1, 64)


def option_ranges(owner: type | object) -> dict[str, Range]:
    """The ranges a class (or an instance's class) declares, its bases' included (its own win)."""
    cls = owner if isinstance(owner, type) else type(owner)
    merged: dict[str, Range] = {}
    for base in reversed(cls.__mro__):
        merged.update(vars(base).get("option_ranges", {}))
    return merged


def check_option(key: str, value: object, allowed: Range) -> None:
    """Raise :class:`OptionError` naming ``key`` when ``value`` is outside ``allowed``."""
    if not allowed.allows(value):
        raise OptionError(key, value, allowed.describe())


def check_choice(key: str, value: object, allowed: Sequence[str]) -> None:
    """Raise :class:`OptionError` naming ``key`` when ``value`` is not one of ``allowed`` (a ``Literal``'s values:
    the CLI checks those itself, a Python caller would otherwise get a silent fallback)."""
    if value not in allowed:
        raise OptionError(key, value, "one of " + ", ".join(map(repr, allowed)))


def check_options(owner: type | object, values: Mapping[str, Any], name: Callable[[str], str] | None = None) -> None:
    """Check each of ``values`` that ``owner``'s class declares a range for.

    ``name`` turns an option into the key the message shows (default ``"ClassName option"``); a constructor
    passes its ``locals()``, the CLI a parsed config section.
    """
    cls = owner if isinstance(owner, type) else type(owner)
    show = name or (lambda key: f"{cls.__name__} {key}")
    for key, allowed in option_ranges(cls).items():
        if key in values:
            check_option(show(key), values[key], allowed)
