"""Optional extras, read from the package's own metadata (model2vec's way): a subpackage that
needs an extra checks it once, at import, and a missing one is a :class:`MissingExtraError`
naming ``pip install 'edge-distill[EXTRA]'``.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata as md
import re
from types import ModuleType

from edge_distill.runtime.errors import MissingExtraError

DISTRIBUTION = "edge-distill"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
#: import names that differ from their distribution's name (for a module that is not installed,
#: the installed distributions cannot say who provides it)
_DISTRIBUTION_OF = {"sklearn": "scikit-learn", "fasttext": "fasttext-wheel"}

__all__ = ["MissingExtraError", "extra_requirements", "require", "require_extra"]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def extra_requirements() -> dict[str, tuple[str, ...]]:
    """extra -> the distributions it installs, from the installed package's metadata (empty when the
    source tree is used without being installed: then nothing can be checked up front)."""
    try:
        requires = md.requires(DISTRIBUTION) or []
    except md.PackageNotFoundError:
        return {}
    extras: dict[str, list[str]] = {}
    for req in requires:
        name, extra = _NAME.match(req), _EXTRA.search(req)
        if name and extra and _canonical(name.group(1)) != DISTRIBUTION:
            extras.setdefault(extra.group(1), []).append(name.group(1))
    return {k: tuple(v) for k, v in extras.items()}


def _installed(distribution: str) -> bool:
    try:
        md.version(distribution)
    except md.PackageNotFoundError:
        return False
    return True


def require_extra(extra: str, feature: str = "") -> None:
    """Raise :class:`MissingExtraError` unless every distribution of ``extra`` is installed."""
    missing = [d for d in extra_requirements().get(extra, ()) if not _installed(d)]
    if missing:
        what = f" for {feature}" if feature else ""
        raise MissingExtraError(
            f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} needed{what} but not installed: "
            f"pip install 'edge-distill[{extra}]'"
        )


def extra_of(module: str) -> str | None:
    """The extra whose distributions provide the importable ``module`` (by the installed
    distributions' own top-level names), or None."""
    top = module.split(".")[0]
    owners = {_canonical(d) for d in md.packages_distributions().get(top, [])} or {
        _canonical(_DISTRIBUTION_OF.get(top, top))
    }
    for extra, dists in extra_requirements().items():
        if extra != "all" and owners & {_canonical(d) for d in dists}:
            return extra
    return None


def require(module: str, feature: str = "") -> ModuleType:
    """Import ``module`` or raise :class:`MissingExtraError` naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra = extra_of(module)
        what = f" for {feature}" if feature else ""
        hint = f"pip install 'edge-distill[{extra}]'" if extra else f"pip install {module.split('.')[0]}"
        raise MissingExtraError(f"{module!r} is needed{what} but is not installed: {hint}") from exc
