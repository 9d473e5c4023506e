"""The geometry of the version page's SVG charts, computed here and drawn by the templates
(templates/admin/ml/_bar_chart.html, _reliability.html): no script needed, nothing inline that
the CSP would block, and the figures are in the page's text for tests and screen readers."""

LABEL_WIDTH = 130  # room for a city's name left of its bar
BAR_WIDTH = 320
ROW_HEIGHT = 20
PLOT = 240  # the reliability diagram's square plot area
MARGIN = 40


def bar_chart(values: dict[str, float | None]) -> dict | None:
    """Horizontal bars of values between 0 and 1 (per-city accuracy, per-attribute AUC), one
    row per label in the given order; None when there is nothing to draw."""
    rows = [(label, value) for label, value in values.items() if value is not None]
    if not rows:
        return None
    bars = []
    for index, (label, value) in enumerate(rows):
        y = 10 + index * ROW_HEIGHT
        bars.append(
            {
                "label": label,
                "value": value,
                "y": y,
                "text_y": y + ROW_HEIGHT * 0.7,
                "width": round(max(0.0, min(1.0, value)) * BAR_WIDTH, 1),
                "height": ROW_HEIGHT - 4,
                "value_x": LABEL_WIDTH + 6 + round(max(0.0, min(1.0, value)) * BAR_WIDTH, 1),
            }
        )
    axis_y = 10 + len(rows) * ROW_HEIGHT + 4
    return {
        "width": LABEL_WIDTH + BAR_WIDTH + 60,
        "height": axis_y + 34,
        "label_x": LABEL_WIDTH - 6,
        "bar_x": LABEL_WIDTH,
        "axis_y": axis_y,
        "tick_y": axis_y + 14,
        "title_y": axis_y + 30,
        "title_x": LABEL_WIDTH + BAR_WIDTH / 2,
        "ticks": [
            {"x": LABEL_WIDTH + fraction * BAR_WIDTH, "text": f"{fraction:g}"}
            for fraction in (0, 0.25, 0.5, 0.75, 1)
        ],
        "bars": bars,
    }


def reliability_diagram(bins: list[dict] | None) -> dict | None:
    """A reliability diagram of the recorded calibration bins (equal-width bins of top-1
    confidence): per bin a bar of its accuracy, a dot at its mean confidence, and the diagonal
    of perfect calibration. None when the version recorded no bins."""
    if not bins:
        return None
    width = PLOT / len(bins)
    drawn = []
    for index, row in enumerate(bins):
        accuracy, confidence = row.get("accuracy"), row.get("confidence")
        low, high = index / len(bins), (index + 1) / len(bins)
        entry = {
            "range": f"{low:.1f} to {high:.1f}",
            "count": row.get("count", 0),
            "accuracy": accuracy,
            "confidence": confidence,
            "x": MARGIN + index * width + 1,
            "width": round(width - 2, 1),
        }
        if accuracy is not None:
            entry["y"] = MARGIN + PLOT - accuracy * PLOT
            entry["height"] = accuracy * PLOT
        if confidence is not None and accuracy is not None:
            entry["dot_x"] = MARGIN + confidence * PLOT
            entry["dot_y"] = MARGIN + PLOT - accuracy * PLOT
        drawn.append(entry)
    return {
        "size": PLOT + 2 * MARGIN,
        "plot": PLOT,
        "left": MARGIN,
        "top": MARGIN,
        "right": MARGIN + PLOT,
        "bottom": MARGIN + PLOT,
        "middle": MARGIN + PLOT / 2,
        "ticks": [
            {"at": MARGIN + fraction * PLOT, "up": MARGIN + PLOT - fraction * PLOT, "text": text}
            for fraction, text in ((0, "0"), (0.5, "0.5"), (1, "1"))
        ],
        "bins": drawn,
    }
