"""One source for each setting: a dataclass field carries its default and help, and the CLI is made from it.

As transformers' ``HfArgumentParser`` does for ``TrainingArguments``: a field declared with
:func:`option` holds its default, its help text and how the command line reads it;
:func:`add_arguments` adds one flag per field (the type from the annotation, or ``parse``; a
``bool`` that defaults to False is ``--name``, one that defaults to True ``--no-name``; the
help ends with the field's default), and :func:`from_args` builds the dataclass from the parsed
namespace. A default or a help text is thus written once, in the dataclass.

The standard library only: every command builds its parser from these, also on a runtime-only install.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: the ``default`` of a field that has none (the caller must give it)
REQUIRED: Any = dataclasses.MISSING


def option(
    default: Any = REQUIRED,
    help: str = "",
    *,
    flag: str | None = None,
    parse: Callable[[str], Any] | None = None,
    choices: Iterable[Any] | None = None,
    metavar: str | None = None,
    group: str | None = None,
    cli: bool = True,
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """A dataclass field with its command-line description.

    ``flag``: the flag where it is not ``--`` + the name with dashes (a bool that defaults to True:
    the ``--no-...`` flag); ``parse``: the argparse type (see :mod:`toolkit.arguments`), else the
    annotation's; ``group``: the help section; ``cli=False``: no flag (set by code, not by users).
    """
    meta = {"help": help, "flag": flag, "parse": parse, "choices": choices, "metavar": metavar}
    meta.update(group=group, cli=cli)
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def argparse_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` as an argparse ``type=``: its ValueError becomes argparse's one-line message."""

    def parsed(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parsed.__name__ = parse.__name__
    return parsed


def cli_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of ``cls`` that are command-line options, in declaration order."""
    return [f for f in dataclasses.fields(cls) if f.metadata.get("cli", False)]


def field_default(f: dataclasses.Field) -> Any:
    """The default of a field (:data:`REQUIRED` where it has none)."""
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


def flag_of(f: dataclasses.Field, prefix: str = "", default: Any = REQUIRED) -> str:
    """The flag of ``f`` on the command line (``prefix`` after the dashes, e.g. ``label-``)."""
    default = field_default(f) if default is REQUIRED else default
    flag = f.metadata.get("flag") or ("--no-" if default is True else "--") + f.name.replace("_", "-")
    for dashes in ("--no-", "--"):
        if flag.startswith(dashes):
            return dashes + prefix + flag[len(dashes) :]
    raise ValueError(f"{f.name}: a flag starts with --, got {flag!r}")


def show_default(value: Any) -> str:
    """A default as the user would type it (``1,2`` for a range, ``0.0001`` for a float)."""
    if isinstance(value, (tuple, list)):
        return ",".join(show_default(v) for v in value) if value else "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _annotation(cls: type, name: str) -> Any:
    """The field's type with ``None`` dropped from a union (``int | None`` is read as ``int``)."""
    hint = typing.get_type_hints(cls)[name]
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def _is_sequence(cls: type, name: str) -> bool:
    """Whether the field holds repeated values (``tuple[str, ...]``: a repeatable flag)."""
    hint = _annotation(cls, name)
    return typing.get_origin(hint) is tuple and typing.get_args(hint)[-1:] == (Ellipsis,)


def _container(parser: Any, title: str | None) -> Any:
    """Where a field's flag goes: the parser's argument group ``title`` (made once), else ``parser``."""
    if title is None or not isinstance(parser, argparse.ArgumentParser):
        return parser
    for group in parser._action_groups:
        if group.title == title:
            return group
    return parser.add_argument_group(title)


def _help(text: str, default: Any, shown: bool) -> str:
    """The help text with its default appended (unless it says it itself), escaped for argparse."""
    if shown and default not in (None, REQUIRED, (), []) and "(default" not in text:
        text = f"{text} (default: {show_default(default)})"
    return text.replace("%", "%%")


def add_arguments(
    parser: Any,
    cls: type,
    *,
    prefix: str = "",
    only: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
    defaults: Mapping[str, Any] | None = None,
    flags: Mapping[str, str] | None = None,
) -> None:
    """One flag per command-line field of the dataclass ``cls`` (``only`` those, none of ``exclude``).

    ``prefix`` goes after the flag's dashes and before the destination's name (``label-`` gives
    ``--label-batch-size`` into ``label_batch_size``); ``defaults`` replace the fields' defaults for
    this command (a required field given a default is no longer required); ``flags`` name a field's
    flag in this command, as is (``{"model": "--teacher"}``).
    """
    wanted = set(only) if only is not None else None
    defaults = dict(defaults or {})
    for f in cli_fields(cls):
        if (wanted is not None and f.name not in wanted) or f.name in exclude:
            continue
        meta = f.metadata
        default = defaults.get(f.name, field_default(f))
        dest = prefix.replace("-", "_") + f.name
        kwargs: dict[str, Any] = {"dest": dest}
        hint = _annotation(cls, f.name)
        parse = meta.get("parse")
        if hint is bool and parse is None:
            kwargs["action"] = "store_false" if default is True else "store_true"
            kwargs["help"] = _help(meta["help"], default, shown=False)
        else:
            if parse is None and _is_sequence(cls, f.name):
                kwargs["action"], default = "append", list(default or ())
            elif parse is None and hint not in (int, float, str):
                raise TypeError(f"{cls.__name__}.{f.name}: give option(parse=...) for a {hint} field")
            kwargs["type"] = argparse_type(parse) if parse else (hint if hint in (int, float, str) else None)
            kwargs["help"] = _help(meta["help"], default, shown="action" not in kwargs)
            kwargs.update({k: meta[k] for k in ("choices", "metavar") if meta.get(k) is not None})
            if default is REQUIRED:
                kwargs["required"] = True
        if default is not REQUIRED:
            kwargs["default"] = default
        flag = (flags or {}).get(f.name) or flag_of(f, prefix, default)
        _container(parser, meta.get("group")).add_argument(flag, **kwargs)


def from_args(cls: type, args: argparse.Namespace, prefix: str = "", **overrides: Any) -> Any:
    """The dataclass ``cls`` built from the flags :func:`add_arguments` added (``overrides`` win;
    a field without a flag in ``args`` keeps its default)."""
    values: dict[str, Any] = {}
    for f in cli_fields(cls):
        dest = prefix.replace("-", "_") + f.name
        if hasattr(args, dest):
            value = getattr(args, dest)
            values[f.name] = tuple(value) if isinstance(value, list) and _is_sequence(cls, f.name) else value
    return cls(**{**values, **overrides})
