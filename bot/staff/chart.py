"""The 30-day chart of ``/stats`` and ``etown-bot stats --chart``: matplotlib, imported only when drawn."""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.storage import DayCount
from bot.words import STAFF


def render_chart(daily: Sequence[DayCount], title: str = STAFF.stats.chart_title) -> bytes:
    """A PNG bar chart per day, stacked: answered, picked from a did-you-mean, a did-you-mean nobody picked
    from, handed to staff, and small talk or unclear messages (no questions) on top.

    CPU-bound for about 0.1 s: call it through ``asyncio.to_thread`` from the bot.
    """
    # The object API with the Agg canvas: no pyplot global state, no display needed, thread-safe.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(8, 3.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    positions = list(range(len(daily)))
    said = STAFF.stats
    series = (
        ([d.answered for d in daily], "#2e7d32", said.chart_answered),
        ([d.picked for d in daily], "#81c784", said.chart_picked),
        ([d.suggested - d.picked for d in daily], "#f9a825", said.chart_suggested),
        ([d.unanswered for d in daily], "#c62828", said.chart_to_staff),
        ([d.smalltalk + d.unclear for d in daily], "#9e9e9e", said.chart_chat),
    )
    bottom = [0] * len(daily)
    for values, color, label in series:
        axes.bar(positions, values, bottom=bottom, color=color, label=label)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    step = max(1, len(daily) // 6)
    axes.set_xticks(positions[::step], [d.day[5:] for d in daily][::step])
    axes.set_xlim(-0.6, max(len(daily), 1) - 0.4)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title)
    axes.legend(loc="upper left", frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
