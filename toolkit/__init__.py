"""edge-distill training side: data, baseline, teacher, student, evaluation and the CLI.

Importing this package is cheap: heavy dependencies (torch, transformers, scikit-learn) are
imported by the modules that need them, through :func:`toolkit.extras.require`.
"""
