"""The tables and the plot of bench/evaluate_rankers.py: calibration of the shown chance,
bootstrap intervals over the simulated people, swipes to a target NDCG, NDCG curves."""

import itertools
from pathlib import Path

import numpy as np

RANKER_LABELS = {
    "baseline": "baseline (add/subtract, fixed queue)",
    "bayesian": "Bayesian (fixed queue)",
    "bayesian-active": "Bayesian + active queue",
}


def calibration_lines(calibration: dict, prior: str) -> list[str]:
    """Shown chance against the true like-rate, by tenths of the chance, and the expected
    calibration error (the count-weighted mean gap)."""
    bins = np.linspace(0, 1, 11)
    lines = [
        "",
        f"Calibration of the shown chance (Bayesian + active queue, {prior} prior): people x "
        "cities by the chance shown; mean shown vs the true like-rate of the city's photos "
        "(count).",
        "",
        "| swipes | "
        + " | ".join(f"{lo:.0%}-{hi:.0%}" for lo, hi in itertools.pairwise(bins))
        + " | ECE |",
        "|---:|" + "---|" * 10 + "---:|",
    ]
    for (name, step), (shown, true) in calibration.items():
        if name != "bayesian-active":
            continue
        which = np.clip(np.digitize(shown, bins) - 1, 0, 9)
        cells, gap = [], 0.0
        for b in range(10):
            chosen = which == b
            if not chosen.any():
                cells.append("")
                continue
            cells.append(
                f"{shown[chosen].mean():.2f} vs {true[chosen].mean():.2f} ({chosen.sum()})"
            )
            gap += chosen.sum() * abs(shown[chosen].mean() - true[chosen].mean())
        lines.append(f"| {step} | " + " | ".join(cells) + f" | {gap / len(shown):.3f} |")
    return lines


def bootstrap(values: np.ndarray, rng, resamples: int = 1000) -> np.ndarray:
    """The mean over users (rows) of each of ``resamples`` resamples of the users:
    (resamples, columns). Its 2.5 and 97.5 percentiles are the 95 % interval of the mean."""
    means = []
    for start in range(0, resamples, 50):
        index = rng.integers(0, len(values), size=(min(50, resamples - start), len(values)))
        means.append(values[index].mean(axis=1))
    return np.concatenate(means)


def swipes_to_reach(mean: np.ndarray, means: np.ndarray, target: float) -> str:
    """The first swipe count at which the mean curve reaches ``target``, with its 95 % interval
    over the bootstrap curves ``means`` (target fixed), as a table cell; "> swipes" where a
    curve never reaches it."""
    reached = np.vstack([mean, means]) >= target
    first = np.where(reached.any(axis=1), reached.argmax(axis=1) + 1, len(mean) + 1)
    cells = [first[0], *np.percentile(first[1:], [2.5, 97.5])]
    text = [f">{len(mean)}" if n > len(mean) else f"{n:.0f}" for n in cells]
    return f"{text[0]} ({text[1]} to {text[2]})"


def plot(curves: dict, titles: list[str], swipes: int, target: Path) -> None:
    """NDCG@10 against swipes, a panel per scenario: curves[(title, ranker, prior)] = (mean,
    low, high). A colour per ranker; solid: the arrays prior (and the baseline, which has none),
    dashed: the embeddings prior."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True, sharey=True)
    x = np.arange(1, swipes + 1)
    colours = dict(zip(RANKER_LABELS, ("tab:blue", "tab:orange", "tab:green"), strict=True))
    for axis, title in zip(axes.flat, titles, strict=True):
        for (curve_title, name, prior), (mean, low, high) in curves.items():
            if curve_title == title:
                label = RANKER_LABELS[name] + ("" if prior == "-" else f", {prior} prior")
                style = "--" if prior == "embeddings" else "-"
                axis.plot(x, mean, style, color=colours[name], label=label)
                axis.fill_between(x, low, high, color=colours[name], alpha=0.15)
        axis.set(title=title, xlabel="swipes", ylabel="NDCG@10")
        axis.grid(alpha=0.3)
    axes.flat[0].legend(loc="lower right", fontsize="small")
    figure.tight_layout()
    figure.savefig(target, dpi=110)
    print(f"Plot: {target}")
