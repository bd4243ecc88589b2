"""CLI layer: print tables and reports to stdout, the data channel.

A terminal gets rich's rendering at its width; a pipe or file gets the same text without wrapping (a wrapped
command line cannot be pasted back), colours or trailing blanks.
"""

from __future__ import annotations

import sys

from rich.console import Console, RenderableType


def print_data(*renderables: RenderableType) -> None:
    """Render to stdout; unwrapped and right-stripped when stdout is not a terminal."""
    out = Console(highlight=False, soft_wrap=True)
    if out.is_terminal:
        for item in renderables:
            out.print(item)
        return
    plain = Console(highlight=False, width=4000, no_color=True, color_system=None, soft_wrap=True)
    with plain.capture() as captured:
        for item in renderables:
            plain.print(item)
    sys.stdout.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
