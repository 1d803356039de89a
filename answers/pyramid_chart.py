"""results/testing.png: the measured test pyramid, one centred bar per layer, as wide as its test count.

The classic picture (Cohn's pyramid: many fast unit tests at the base, few slow end-to-end ones on top) drawn
from our own numbers, with each layer's wall time beside it, so the shape and the cost read together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt

# base to top: the order a pyramid is read in
ORDER = ("unit", "property", "integration", "contract", "fuzz", "load")
COLOURS = {
    "unit": "#1b9e77",
    "property": "#66a61e",
    "integration": "#7570b3",
    "contract": "#e7298a",
    "fuzz": "#d95f02",
    "load": "#e6ab02",
}


def plot(data: dict[str, Any], path: Path) -> Path:
    layers = data["layers"]
    names = [name for name in ORDER if name in layers]
    counts = [int(layers[name]["tests"]) for name in names]
    widest = max([*counts, 1])
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(names) + 1.2))
    for y, (name, count) in enumerate(zip(names, counts, strict=True)):
        ax.barh(y, count, left=-count / 2, height=0.8, color=COLOURS.get(name, "grey"))
        seconds = float(layers[name]["seconds"])
        label = f"{name}: {count} test{'' if count == 1 else 's'}, {seconds:.0f} s"
        ax.text(widest / 2 + widest * 0.03, y, label, va="center", fontsize=9)
    ax.set_yticks([])
    ax.set_xticks([])
    ax.set_xlim(-widest / 2 - widest * 0.02, widest * 1.15)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    total = data["total"]
    how = "collected only" if data["config"]["mode"] == "collect-only" else "run layer by layer"
    ax.set_title(
        f"This repository's test pyramid: {total['tests']} tests, {total['seconds']:.0f} s ({how})",
        loc="left",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
