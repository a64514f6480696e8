"""A learned "go now" estimate for each request, from the scenarios' votes and its window.

The scenario rounds count how often a request rides a route that has to leave now; the day in
hindsight says which requests did leave in the epoch they were open in. Set side by side
(`benchmarks/dispatch_model.py`), the votes alone rank hindsight's choice only fairly well:
a request whose window leaves it hours of slack, early in a long day, waits in hindsight even
where the one-epoch-deep scenarios send it. A logistic model over the votes and a few facts of
the request ranks it better on days it was not fitted on, and the policy may decide with it
(`ScenarioSettings.learned_cutoff`).

Pure NumPy: the features, the model, its fit and the rank measure (ROC AUC).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from doorstep.dynamic_dispatch.problem import EpochProblem, FloatArray, IntArray

HOUR = 3600.0

FEATURES = ("share", "slack", "opens", "width", "round_trip", "demand", "horizon")
"""Per request: the last round's share of scenarios sending it now; hours from now to the
latest it can leave the depot and still arrive in its window (straight there); hours until
its window opens; the window's width in hours; the round trip from the depot in hours; its
demand as a share of a vehicle; hours until the depot closes (how much of the day is left)."""


def request_features(problem: EpochProblem, share_now: FloatArray) -> FloatArray:
    """One row per problem row (row 0, the depot, all zeros), one column per `FEATURES`."""
    depot = int(problem.locations[0])
    out = problem.durations[depot, problem.locations].astype(np.float64)
    back = problem.durations[problem.locations, depot].astype(np.float64)
    windows = problem.time_windows.astype(np.float64)
    rows = problem.num_requests + 1
    features: FloatArray = np.column_stack(
        [
            share_now.astype(np.float64),
            (windows[:, 1] - out) / HOUR,
            windows[:, 0] / HOUR,
            (windows[:, 1] - windows[:, 0]) / HOUR,
            (out + back) / HOUR,
            problem.demands / max(problem.capacity, 1),
            np.full(rows, problem.depot_closes / HOUR),
        ]
    )
    features[0] = 0.0
    return features


@dataclass(frozen=True)
class DispatchModel:
    """Logistic regression on standardised `FEATURES`: P(the request leaves now in hindsight)."""

    bias: float
    weights: tuple[float, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]

    def __post_init__(self) -> None:
        sizes = {len(self.weights), len(self.means), len(self.scales)}
        if sizes != {len(FEATURES)}:
            raise ValueError(f"a dispatch model needs {len(FEATURES)} weights, means and scales")

    def probability(self, features: FloatArray) -> FloatArray:
        scores = (features - np.array(self.means)) / np.array(self.scales) @ np.array(self.weights)
        result: FloatArray = 1.0 / (1.0 + np.exp(-(scores + self.bias)))
        return result


def fit_dispatch_model(
    features: FloatArray, labels: IntArray, *, l2: float = 1e-3, iterations: int = 3000
) -> DispatchModel:
    """Fit by full-batch gradient descent on the mean log loss (deterministic for the data)."""
    if features.shape[0] != labels.shape[0] or features.shape[1] != len(FEATURES):
        raise ValueError(
            f"features {features.shape} and labels {labels.shape}: one row per label, "
            f"{len(FEATURES)} columns"
        )
    if labels.min(initial=1) == labels.max(initial=0):
        raise ValueError("the labels hold one class only: nothing to tell apart")
    means = features.mean(axis=0)
    scales = features.std(axis=0)
    scales[scales == 0] = 1.0
    z = (features - means) / scales
    weights = np.zeros(len(FEATURES))
    bias = 0.0
    for _ in range(iterations):
        error = 1.0 / (1.0 + np.exp(-(z @ weights + bias))) - labels
        weights -= 0.5 * (z.T @ error / len(labels) + l2 * weights)
        bias -= 0.5 * float(error.mean())
    return DispatchModel(
        bias=round(bias, 4),
        weights=tuple(round(float(w), 4) for w in weights),
        means=tuple(round(float(m), 4) for m in means),
        scales=tuple(round(float(s), 4) for s in scales),
    )


def roc_auc(scores: FloatArray, labels: IntArray) -> float:
    """The chance that a random positive scores above a random negative (ties count half)."""
    positive = labels == 1
    pos, neg = int(positive.sum()), int((~positive).sum())
    if pos == 0 or neg == 0:
        raise ValueError("the ROC AUC needs both classes")
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores):  # ties share their mean rank
        tied = scores == value
        ranks[tied] = ranks[tied].mean()
    return float((ranks[positive].sum() - pos * (pos + 1) / 2) / (pos * neg))


#: Fitted on one day of each of the 10 qualification instances (their seed + 1000, never a
#: benchmark day) at 15 s per epoch, labelled by the day in hindsight routed for 60 s: 6,829
#: examples, 31 % of them sent in the epoch (`benchmarks/dispatch_model.py`; docs/dispatch.md).
#: More votes, less slack and a window that opens sooner count towards going now.
ORTEC_DISPATCH_MODEL = DispatchModel(
    bias=-0.9974,
    weights=(0.5318, -0.4311, -0.3802, -0.0997, 0.1164, 0.0165, 0.0039),
    means=(0.493, 3.6489, 1.5559, 2.654, 1.1672, 0.0461, 9.3808),
    scales=(0.4907, 1.5472, 1.4226, 1.3195, 0.4272, 0.0203, 1.4036),
)
