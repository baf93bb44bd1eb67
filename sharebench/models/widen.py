"""The parameter-matched conv baseline (Elsayed et al. 2020's wide convolution): a conv net widened
until it has as many unique parameters as its unshared twin, so a comparison is not just "more weights".
"""

from collections.abc import Callable


def matched_channels(count: Callable[[list[int]], int], channels, target: int) -> list[int]:
    """`channels` times one common factor, rounded to integers, whose `count` is closest to `target`.

    The widest block takes every integer width in turn (the others scale with it, at least 1); counts
    grow with the width, so a doubling search and a bisection find the two widths around the target."""
    channels = list(channels)
    widest = max(channels)

    def widths(w: int) -> list[int]:
        return [max(1, round(c * w / widest)) for c in channels]

    lo, hi = 1, widest
    while count(widths(hi)) < target:
        lo, hi = hi, 2 * hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if count(widths(mid)) < target else (lo, mid)
    return min(widths(lo), widths(hi), key=lambda ch: (abs(count(ch) - target), sum(ch)))
