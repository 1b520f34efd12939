"""The numbers of a report: results, levels, statistics, decisions, verdicts in words, the
compute frontier and fits, flags as data.

Everything here is computed from recorded results with numpy, pandas and scipy, and imports
no plotting library (matplotlib, seaborn, pytorch_grad_cam): the sweep's adaptive rounds
(:mod:`bench.sweep.rounds`) and the coefficient search (:mod:`bench.search`) use it without
loading one (``tests/analysis/test_no_plotting.py``). Drawing and writing the figures and
tables is :mod:`bench.report`'s, which imports from here. Nothing is imported eagerly: import
the module you need (``from bench.analysis.decide import decisions``).
"""
