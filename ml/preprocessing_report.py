"""The preprocessing study's table and figure (ml.preprocessing_study measures and derives)."""

from rich.progress import Progress

from .preprocessing_study import (
    GATE_KEYS,
    GATE_MEASURES,
    LOW_PERCENTILE,
    PERTURBATIONS,
    THRESHOLD_STATISTIC,
    conditions,
    run_study,
)
from .preprocessing_thresholds import curve


def markdown_table(study: dict) -> str:
    """One row per condition: each model's top-1 (accuracy or agreement), the city models'
    top-1 with autocontrast, mean confidence, the gate's medians (10th percentiles) and, when
    the study has a ``gate_effect``, the share of photos that gate admits."""
    models = study["models"]
    head = ["perturbation", "level"]
    for name, spec in models.items():
        head.append(f"{name} {spec['measure']}")
        if spec["measure"] == "accuracy":
            head.append(f"{name} with autocontrast")
        head.append(f"{name} confidence")
    head += [f"median {m} (p{LOW_PERCENTILE})" for m in GATE_MEASURES]
    shares = study.get("gate_effect", {}).get("admitted_share")
    head += ["admitted by the gate"] if shares else []
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for row in study["conditions"]:
        cells = [row["kind"], "" if row["level"] is None else f"{row['level']:g}"]
        for name, spec in models.items():
            result = row["models"][name]
            cells.append(f"{result['top1']:.3f}")
            if spec["measure"] == "accuracy":
                cells.append(f"{result['autocontrast_top1']:.3f}")
            cells.append(f"{result['confidence']:.3f}")
        for measure in GATE_MEASURES:
            s = row["gate"][measure]
            cells.append("-" if s is None else f"{s['median']:g} ({s[f'p{LOW_PERCENTILE}']:g})")
        if shares:
            cells.append(f"{shares[' '.join(cells[:2]).strip()]:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(study: dict, thresholds: dict, path) -> None:
    """One panel per perturbation: top-1 (solid; accuracy or agreement), confidence (dashed)
    and, for the city model, top-1 with autocontrast (dotted) against the level; the rule's
    bound and crossing level marked."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    for axis, (kind, spec) in zip(axes.flat, PERTURBATIONS.items(), strict=True):
        for index, (name, model) in enumerate(study["models"].items()):
            color = f"C{index}"
            levels, top1, _ = curve(study, kind, name, severe_only=False)
            axis.plot(levels, top1, "o-", color=color, label=f"{name} {model['measure']}")
            _, confidence, _ = curve(study, kind, name, "confidence", severe_only=False)
            axis.plot(levels, confidence, "--", color=color, label=f"{name} confidence")
            if model["measure"] == "accuracy":
                _, adjusted, _ = curve(study, kind, name, "autocontrast_top1", severe_only=False)
                axis.plot(levels, adjusted, ":", color=color, label=f"{name} + autocontrast")
        axis.axhline(thresholds["bound"], color="grey", lw=0.8)
        found = thresholds["perturbations"][kind]
        if found["crossing_level"] is not None:
            axis.axvline(found["crossing_level"], color="red", lw=1)
            note = (
                f"{GATE_KEYS[kind]} = {found['threshold']}"
                if kind in GATE_KEYS
                else "no gate key (the gate has no measure of it)"
            )
            axis.set_title(f"{kind}: crosses at {found['crossing_level']:g}; {note}", fontsize=10)
        else:
            axis.set_title(f"{kind}: never {thresholds['drop'] * 100:.0f} pp below")
        axis.set_xlabel(f"{kind} ({spec['unit']})")
        axis.set_ylim(0, 1.02)
        if spec["worse"] == "lower":
            axis.invert_xaxis()
    for axis in axes[:, 0]:
        axis.set_ylabel("top-1 accuracy / agreement, confidence")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    figure.suptitle(
        f"{study['photos']} held-out synthetic photos. Red: where {thresholds['model']} top-1 "
        f"falls {thresholds['drop'] * 100:.0f} pp below untouched (grey line); threshold = "
        f"{THRESHOLD_STATISTIC} of the gate measure there",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def run_with_progress_bar(photos, subjects, *, max_side: int) -> dict:
    """``run_study`` with a progress bar over the conditions (the command and the bench)."""
    with Progress() as progress:
        bar = progress.add_task("conditions", total=len(conditions()))
        return run_study(
            photos,
            subjects,
            max_side=max_side,
            progress=lambda done, total: progress.update(bar, completed=done, total=total),
        )
