"""The preprocessing study's curves turned into quality-gate thresholds (the rule is stated at
ACCURACY_DROP in ml.preprocessing_study), and what a gate does to the study's photos."""

import math

import numpy as np

from .preprocessing_study import (
    ACCURACY_DROP,
    GATE_KEYS,
    LOW_PERCENTILE,
    PERTURBATIONS,
    THRESHOLD_STATISTIC,
)


def curve(study: dict, kind: str, model: str, key: str = "top1", *, severe_only=True):
    """(levels, values, gate rows) of one perturbation: from the untouched photo towards worse
    (``severe_only``), else every level ascending. Unchanging levels read the "original" row."""
    spec = PERTURBATIONS[kind]
    rows = {r["level"]: r for r in study["conditions"] if r["kind"] == kind}
    sign = -1 if spec["worse"] == "lower" else 1
    levels = sorted(spec["levels"])
    if severe_only:
        levels = [lv for lv in levels[::sign] if sign * (lv - spec["identity"]) >= 0]
    chosen = [rows.get(lv, study["conditions"][0]) for lv in levels]
    return levels, [r["models"][model][key] for r in chosen], [r["gate"] for r in chosen]


def crossing(levels, values, bound: float) -> float | None:
    """The level (levels ordered from mild to severe) where ``values`` first fall below
    ``bound``, linear between the last level at or above it and the first below; None if they
    never do."""
    for index, (level, value) in enumerate(zip(levels, values, strict=True)):
        if value < bound:
            if index == 0:
                return float(level)
            before, above = levels[index - 1], values[index - 1]
            return float(before + (above - bound) / (above - value) * (level - before))
    return None


def at_level(levels, values, level: float) -> float:
    """``values`` linearly interpolated at ``level`` (levels ordered either way)."""
    order = np.argsort(levels)
    return float(np.interp(level, np.asarray(levels)[order], np.asarray(values)[order]))


def derive_thresholds(study: dict, model: str, *, drop: float = ACCURACY_DROP) -> dict:
    """Gate thresholds from ``model``'s curves by the rule above: for brightness and blur the
    THRESHOLD_STATISTIC of brightness / sharpness at the crossing level (rounded to 0.1); for
    JPEG that of the quality the validate step estimates (photos.images.jpeg_quality, what the
    gate sees), rounded up. Noise is reported only (the gate has no noise measure); the median
    at each crossing is recorded beside the threshold."""
    baseline = study["conditions"][0]["models"][model]["top1"]  # the untouched photos
    bound = baseline - drop
    found = {}
    for kind, spec in PERTURBATIONS.items():
        levels, values, gates = curve(study, kind, model)
        level = crossing(levels, values, bound)
        entry = {"crossing_level": None if level is None else round(level, 3)}
        for summary in ("median", THRESHOLD_STATISTIC):
            values = [g[spec["gate"]][summary] if g[spec["gate"]] else None for g in gates]
            if level is not None and None not in values:
                value = at_level(levels, values, level)
                entry[f"{summary}_{spec['gate']}"] = round(value, 2)
        value = entry.get(f"{THRESHOLD_STATISTIC}_{spec['gate']}")
        if kind in GATE_KEYS and value is not None:
            entry["threshold"] = math.ceil(value) if kind == "jpeg" else round(value, 1)
        found[kind] = entry
    gate = {GATE_KEYS[k]: found[k]["threshold"] for k in GATE_KEYS if "threshold" in found[k]}
    return {
        "model": model,
        "rule": (
            f"level where {model}'s held-out top-1 first falls {drop * 100:.0f} percentage "
            f"points below its top-1 on the untouched photos ({baseline:.3f} -> {bound:.3f}), "
            f"linear between measured levels; threshold = the {LOW_PERCENTILE}th percentile of the "
            "gate measure of the photos at that level (linear between levels), rounded to 0.1 "
            "(JPEG quality, as the validate step estimates it from the file: rounded up)"
        ),
        "drop": drop,
        "baseline_top1": baseline,
        "bound": round(bound, 4),
        "perturbations": found,
        "gate": gate,
    }


def admitted(row: dict, gate: dict) -> np.ndarray:
    """Which photos of a condition the gate ``gate`` (PHOTO_QUALITY_GATE's keys) lets through."""
    photos = {m: np.array(v, dtype=float) for m, v in row["photos"].items()}  # None -> nan
    passes = np.ones(len(photos["brightness"]), dtype=bool)
    for measure in ("brightness", "contrast", "sharpness", "jpeg_quality"):
        limit = gate.get(f"min_{measure}")
        if limit is not None:
            passes &= ~(photos[measure] < limit)  # no JPEG quality (not a JPEG): not checked
    return passes


def gate_effect(study: dict, model: str, gate: dict) -> dict:
    """What ``gate`` does to the study's photos: per condition the share it admits; pooled over
    each perturbation's conditions, ``model``'s top-1 on the photos it admits and on those it
    rejects, without and with autocontrast (the candidate test-time preprocessing)."""
    shares, pools = {}, {}
    for row in study["conditions"]:
        passes = admitted(row, gate)
        label = row["kind"] if row["level"] is None else f"{row['kind']} {row['level']:g}"
        shares[label] = round(float(passes.mean()), 3)
        for side, chosen in (("admitted", passes), ("rejected", ~passes)):
            pool = pools.setdefault(row["kind"], {}).setdefault(side, {"plain": [], "ac": []})
            for key, name in (("plain", "hits"), ("ac", "autocontrast_hits")):
                hits = np.array(row["models"][model][name], dtype=float)[chosen]
                pool[key].extend(hits[~np.isnan(hits)].tolist())
    pooled = {
        kind: {
            side: {
                "photos": len(pool["plain"]),
                "top1": round(float(np.mean(pool["plain"])), 4) if pool["plain"] else None,
                "autocontrast_top1": round(float(np.mean(pool["ac"])), 4) if pool["ac"] else None,
            }
            for side, pool in sides.items()
        }
        for kind, sides in pools.items()
    }
    return {"gate": gate, "model": model, "admitted_share": shares, "top1": pooled}
