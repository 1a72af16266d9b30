"""The transfer set of a ``teacher label`` folder: which drawn texts the teacher's logits belong to.

The student stage (:mod:`toolkit.api`), the student's lever study and the soft-fit benchmark all
start here, so the texts and logits they fit on are the same rows.
"""

from __future__ import annotations

import os

import numpy as np

from edge_distill.runtime.errors import DataError
from edge_distill.toolkit.data import Corpus
from edge_distill.toolkit.logits import LogitsTable, read_data_record
from edge_distill.toolkit.options import DataOptions


def recorded_options(logits: str | os.PathLike[str]) -> DataOptions:
    """The data options the transfer set was drawn with, as recorded beside the logits."""
    record = read_data_record(logits)
    if record is None:
        raise DataError(f"{logits}: no data record beside the logits (an older labeling): give the data options")
    return DataOptions.from_record(record)


def transfer_of(unlabeled: Corpus, table: LogitsTable, *, exact: bool) -> tuple[Corpus, np.ndarray]:
    """The transfer texts and their logits. ``exact``: every drawn text must have logits; else
    the drawn pool is narrowed to the texts the logits hold (all of which must be in it)."""
    if exact:
        return unlabeled, table.lookup(unlabeled.ids)
    keep = [i for i, k in enumerate(unlabeled.ids) if k in table.positions]
    if len(keep) < len(table):
        raise DataError(
            f"{len(table) - len(keep)} of the {len(table)} labeled texts are not in this data's transfer pool: "
            "use the data options 'teacher label' used (source, --labeled, --test, --seed, fields)"
        )
    chosen = unlabeled.take(keep)
    return chosen, table.lookup(chosen.ids)
