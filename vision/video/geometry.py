"""Plane geometry for zones and tripwires: polygon validation, containment, segment crossing.

Points are ``(x, y)`` floats in whatever plane the caller uses (image pixels, x right, y down;
or ground metres, x east, y north). Polygons are sequences of at least three vertices, not
closed (the last vertex connects back to the first).
"""

from __future__ import annotations

from collections.abc import Sequence

Point = tuple[float, float]


def _cross(o: Point, a: Point, b: Point) -> float:
    """z of ``(a - o) x (b - o)``: > 0 when ``b`` is counter-clockwise of ``a`` seen from ``o``
    in a y-up plane (clockwise in image coordinates, where y points down)."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def polygon_area(poly: Sequence[Point]) -> float:
    """Signed shoelace area (positive for counter-clockwise vertices in a y-up plane)."""
    s = 0.0
    n = len(poly)
    for i in range(n):
        x1, y1 = poly[i]
        x2, y2 = poly[(i + 1) % n]
        s += x1 * y2 - x2 * y1
    return s / 2.0


def _on_segment(p: Point, a: Point, b: Point) -> bool:
    return (min(a[0], b[0]) <= p[0] <= max(a[0], b[0])
            and min(a[1], b[1]) <= p[1] <= max(a[1], b[1]))


def segments_intersect(a: Point, b: Point, c: Point, d: Point) -> bool:
    """True when closed segments ``ab`` and ``cd`` share at least one point."""
    d1, d2 = _cross(c, d, a), _cross(c, d, b)
    d3, d4 = _cross(a, b, c), _cross(a, b, d)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True
    return ((d1 == 0 and _on_segment(a, c, d)) or (d2 == 0 and _on_segment(b, c, d))
            or (d3 == 0 and _on_segment(c, a, b)) or (d4 == 0 and _on_segment(d, a, b)))


def polygon_problem(poly: Sequence[Point]) -> str | None:
    """Why ``poly`` is not a valid simple polygon, or ``None`` when it is.

    Checks: at least 3 finite vertices, non-zero area, no repeated consecutive vertex, and no
    two non-adjacent edges that touch (self-intersection, "bow-tie").
    """
    n = len(poly)
    if n < 3:
        return f"a polygon needs at least 3 points, got {n}"
    for p in poly:
        if len(p) != 2 or not all(isinstance(v, int | float) for v in p):
            return f"vertex {p!r} is not an (x, y) pair of numbers"
        if any(v != v or v in (float("inf"), float("-inf")) for v in p):
            return f"vertex {p!r} is not finite"
    for i in range(n):
        if poly[i] == poly[(i + 1) % n]:
            return f"vertex {i} repeats the next one"
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        for j in range(i + 1, n):
            if j == i or (j + 1) % n == i or j == (i + 1) % n:
                continue  # adjacent edges share a vertex by construction
            if segments_intersect(a, b, poly[j], poly[(j + 1) % n]):
                return f"edges {i} and {j} intersect (polygon crosses itself)"
    if abs(polygon_area(poly)) < 1e-9:
        return "polygon has zero area (collinear points)"
    return None


def point_in_polygon(p: Point, poly: Sequence[Point]) -> bool:
    """Even-odd ray casting; points exactly on an edge count as inside."""
    x, y = p
    inside = False
    n = len(poly)
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        if _cross(a, b, p) == 0 and _on_segment(p, a, b):
            return True
        if (a[1] > y) != (b[1] > y):
            x_at = a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1])
            if x < x_at:
                inside = not inside
    return inside


def side_of_line(p: Point, a: Point, b: Point) -> float:
    """Signed side of ``p`` relative to the directed line ``a -> b``: the sign of the cross
    product ``(b - a) x (p - a)``. In image coordinates (y down) a positive value means ``p``
    lies to the *right* of ``a -> b`` as seen on screen."""
    return _cross(a, b, p)


def crossing_sign(prev: Point, cur: Point, a: Point, b: Point) -> int:
    """+1 / -1 when the step ``prev -> cur`` crosses segment ``ab`` going from its negative to
    its positive side (or the reverse), 0 when it does not cross.

    A step with an endpoint exactly on the line returns 0; callers keep the last point that was
    off the line as ``prev`` so that resting on the line neither hides nor repeats a crossing.
    """
    s0, s1 = side_of_line(prev, a, b), side_of_line(cur, a, b)
    if s0 == 0 or s1 == 0 or (s0 > 0) == (s1 > 0):
        return 0
    if not segments_intersect(prev, cur, a, b):
        return 0
    return 1 if s1 > 0 else -1


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two xyxy boxes (0 when disjoint)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
