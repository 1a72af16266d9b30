"""The student: distill teacher logits into TF-IDF word n-grams + a linear model.

``fit_student`` (objectives soft / logit / hard, optional gold labels, pruning to a budget),
``save_student`` / ``load_student`` (plain data, no pickle) and :class:`StudentModel`, whose
``pipeline()`` is the scikit-learn reference the ONNX export is checked against. The seed
notebook's recipe is :func:`toolkit.student.seed.fit_seed` (it imports scikit-learn).
"""

from edge_distill.runtime.extras import require_extra

require_extra("train", "the student")  # once, here: the modules below import scikit-learn at their top

from edge_distill.toolkit.student.distill import FitResult, StudentConfig, evaluate, fit_student
from edge_distill.toolkit.student.model import StudentModel
from edge_distill.toolkit.student.objectives import OBJECTIVES
from edge_distill.toolkit.student.store import StudentError, load_student, save_student

__all__ = [
    "OBJECTIVES",
    "FitResult",
    "StudentConfig",
    "StudentError",
    "StudentModel",
    "evaluate",
    "fit_student",
    "load_student",
    "save_student",
]
