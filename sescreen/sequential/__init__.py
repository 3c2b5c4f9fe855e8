"""Watch a running DC-polarization hold and say when it can stop (METHODS.md section 7).

Checking the 95 % interval after every new point and stopping at the first that clears a
threshold inflates the error rate. Here look k states an interval at level
``1 - alpha_k`` with ``sum_k alpha_k <= alpha``, so by the union bound the probability that
any look decides wrongly is at most ``alpha`` (0.05), however many looks are taken and however
the looks are correlated; a decision "sigma_e < 1e-10 S/cm" at look k is as reliable as the
same 95 % statement after the full hold. References: Howard, Ramdas, McAuliffe & Sekhon,
"Time-uniform, nonparametric, nonasymptotic confidence sequences", Ann. Stat. 49, 1055
(2021) (confidence sequences; the union-bound construction is the simplest of them);
Lan & DeMets, "Discrete sequential boundaries for clinical trials", Biometrika 70, 659 (1983)
(alpha spending over a pre-set number of looks).

``boundary``  alpha_k per look (``series`` for any number of looks, ``fixed`` for K looks)
              and the 95 % interval widened to a look's level
``watcher``   :class:`HoldWatcher`: feed points or records, refit, judge, stop rules
``look``      :class:`Look` (one line / one JSON object) and :class:`WatchHistory`
``follow``    a file still being written (:func:`follow`), a finished one replayed
              (:func:`replay`)

>>> from sescreen.sequential import HoldWatcher, replay          # doctest: +SKIP
>>> w = HoldWatcher(thickness_cm=0.1, target_ma_cm2=1.0)          # doctest: +SKIP
>>> for look in replay(read("ca.mpr"), w, every_s=3600): print(look.line())  # doctest: +SKIP
"""

from sescreen.sequential.boundary import LookBoundary, widen
from sescreen.sequential.follow import RecordFile, follow, replay
from sescreen.sequential.look import Look, WatchHistory
from sescreen.sequential.watcher import HoldWatcher

__all__ = ["HoldWatcher", "Look", "LookBoundary", "RecordFile", "WatchHistory", "follow",
           "replay", "widen"]
