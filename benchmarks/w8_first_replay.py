"""W8's time to the first replayed step, as a ratio to one eager step, two ways.

    taskset -c 0 python benchmarks/w8_first_replay.py            # wall clock, alternating
    valgrind --tool=callgrind --collect-atstart=no --toggle-collect=functools_reduce \\
        python benchmarks/w8_first_replay.py count first         # instructions (also: eager)

Wall clock: TRIALS times, alternating, a new model and capture (call 1 eager, untimed), then
the timed recording call plus the first replay, then one timed step of a warm eager model;
the ratio of the minima and of the medians. Instructions: the region under
functools.reduce (callgrind's toggle) is COUNT recording calls plus first replays ("first")
or COUNT warm eager steps ("eager"), after a full garbage collection; divide the "Collected"
count by COUNT. (benchmarks/workloads/w8_captured.py reports the same quantity for the
benchmark suite: the median of 5 new captures over the best warm eager step.)
"""
import functools
import gc
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # the workloads, and this checkout's fastgrad

from workloads import w8_captured as w8

import fastgrad
from fastgrad import optim

TRIALS = 200
COUNT = 10


def make_step():
    X, labels, layers = w8.problem()
    model = w8.fastgrad_model(layers)
    opt = optim.SGD(model.parameters(), w8.LR, momentum=w8.MOMENTUM)
    return w8.demo_step_builder(model, opt), X, labels


def new_capture():
    fn, X, labels = make_step()
    step = fastgrad.capture(fn)
    step(X, labels)  # call 1: eager (the optimizer creates its state)
    return step, X, labels


def wall():
    eager, X, labels = make_step()
    for _ in range(20):
        eager(X, labels)
    first, single = [], []
    for _ in range(TRIALS):
        step, X, labels = new_capture()
        started = time.perf_counter()
        step(X, labels)  # recorded
        step(X, labels)  # the first replay
        first.append(time.perf_counter() - started)
        started = time.perf_counter()
        eager(X, labels)
        single.append(time.perf_counter() - started)
    first, single = np.array(first) * 1e6, np.array(single) * 1e6
    print(f"record + first replay: min {first.min():.1f} us, median {np.median(first):.1f} us; "
          f"eager step: min {single.min():.1f} us, median {np.median(single):.1f} us; ratio "
          f"{first.min() / single.min():.2f} (minima), "
          f"{np.median(first) / np.median(single):.2f} (medians)")


def count(what):
    eager, X, labels = make_step()
    for _ in range(5):
        eager(X, labels)
    steps = [new_capture() for _ in range(COUNT + 1)]
    step, X, labels = steps.pop()  # one untimed recording first: every code path warm
    step(X, labels)
    step(X, labels)
    gc.collect()

    def region(_, __):
        if what == "first":
            for captured, x, y in steps:
                captured(x, y)
                captured(x, y)
        else:
            for _ in range(COUNT):
                eager(X, labels)
    functools.reduce(region, [0], None)


if __name__ == "__main__":
    if sys.argv[1:2] == ["count"]:
        count(sys.argv[2])
    else:
        wall()
