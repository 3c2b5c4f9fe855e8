"""Batch analysis: many measurement files through the DC-polarization analysis, in
parallel, into one results table.

- The files: every measurement file under a folder, recursively, by extension
  (:data:`sescreen.io.SUFFIXES`), with the same options; or the rows of a manifest
  (:mod:`sescreen.manifest`: file, material, thickness, area, temperature, voltage, skip,
  segment, model and reader options per file) over the common options
  (:mod:`.inputs`). Options are checked once, before any file.
- Work runs in this process, in own worker processes, or on a Dask cluster
  (``scheduler="tcp://host:8786"``; extra ``sescreen[dask]``) (:mod:`.workers`).
- A file that fails is recorded with its error; the others go on (:mod:`.jobs`).
- Resumable: every finished file is appended at once to a journal (``<out>.jsonl``); a new
  run skips files whose resolved path, size, modification time and options match a journal
  entry, so an interrupted run resumes where it stopped and a run with other options
  recomputes. A lock (``<out>.lock``) keeps two runs on one output apart
  (:mod:`.journal`). The table (CSV) is written atomically at the end (:mod:`.run`).
- Every row carries the material (from the manifest), units in the column names
  (``sigma_e_s_cm``, ``i_ss_a``, ``t_hold_s``, ...) and the verdict at 1 and 10 mA/cm^2
  (Han 2019 thresholds) by the rule of :mod:`sescreen.criteria`: ``outcome_1ma``,
  ``outcome_10ma`` (pass | fail | inconclusive) from the fit's 95 % interval
  ``sigma_e_lo_s_cm`` .. ``sigma_e_hi_s_cm`` (``sigma_e_lo_s_cm = 0`` with
  ``upper_bound_only``: the hold supports only an upper bound, which can pass, never fail).
"""

from sescreen.batch.inputs import find_files
from sescreen.batch.jobs import COLUMNS, analyse_file
from sescreen.batch.run import BatchResult, default_output, run_batch

__all__ = ["COLUMNS", "BatchResult", "analyse_file", "default_output", "find_files",
           "run_batch"]
