"""Grammar-constrained CTC decoding: the most probable alignment that spells a plate template.

Greedy CTC decoding picks the best class per time step, so a ``0`` that looks like ``O`` or a
province character read as a look-alike ideograph breaks the plate. Here the decoder may only
emit, at position ``i`` of a template, a character that position allows; it runs an exact
Viterbi search over the CTC lattice (blank / character states, repeats merged unless separated
by a blank), so a confusable character is settled by the model's own second choice rather
than by a fixed substitution table.

Inputs are per-step class probabilities ``probs`` of shape ``[T, C]`` (float, softmax output
of a CTC recogniser) and the recogniser's ``charset`` (``charset[0]`` is the blank). Characters
listed in ``ignorable`` (plate separators such as ``·``) count as blank.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from vision.plates.grammar import PlateTemplate

NEG = -1e9
IGNORABLE = " ·•.-:"
# A marker position (at most MARKER_MAX_CHARS allowed characters: 挂, 学, 警, 港/澳, 粤, Z)
# none of whose characters reaches MIN_POSITION_PROB at any step rules its template out early;
# that keeps decoding cheap (7 Chinese templates a crop). Broad positions are never ruled out:
# an unseen province still yields a reading, with a low confidence on that character.
MIN_POSITION_PROB = 1e-3
MARKER_MAX_CHARS = 2


@dataclass(frozen=True)
class ConstrainedReading:
    """Best reading of one template.

    ``text``: one character per template position; ``char_conf``: per-character confidence
    (highest probability of that character over the steps aligned to it), in [0, 1];
    ``log_score``: log-probability of the best path; ``greedy_log_score``: log-probability of
    the unconstrained best path (an upper bound), so ``log_score - greedy_log_score <= 0``
    measures how much the grammar had to bend the reading. ``spans[i]``: first and last time
    step (inclusive) of the best path that emit character ``i`` (where it sits in the line).
    """

    template: PlateTemplate
    text: str
    char_conf: tuple[float, ...]
    log_score: float
    greedy_log_score: float
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def confidence(self) -> float:
        return min(self.char_conf) if self.char_conf else 0.0

    @property
    def penalty(self) -> float:
        """How far below the unconstrained path (>= 0, in nats)."""
        return max(0.0, self.greedy_log_score - self.log_score)


class CharsetIndex:
    """Maps characters to recogniser class indices; built once per charset."""

    def __init__(self, charset: Sequence[str], blank: int = 0,
                 ignorable: str = IGNORABLE) -> None:
        if not charset:
            raise ValueError("empty charset")
        if not 0 <= blank < len(charset):
            raise ValueError(f"blank index {blank} outside a charset of {len(charset)}")
        self.size = len(charset)
        self.blank = blank
        self.index: dict[str, int] = {}
        for i, ch in enumerate(charset):
            if i != blank and ch not in self.index:
                self.index[ch] = i
        self.ignorable = np.array(sorted({self.index[c] for c in ignorable if c in self.index}),
                                  dtype=np.int64)


def _log(p: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    return np.asarray(np.log(np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1.0)))


def _blank_logp(probs: npt.NDArray[Any], cs: CharsetIndex) -> npt.NDArray[np.float64]:
    """Per-step log-probability of "no character": blank or an ignorable separator."""
    pb = probs[:, cs.blank]
    if cs.ignorable.size:
        pb = np.maximum(pb, probs[:, cs.ignorable].max(axis=1))
    return _log(pb)


def decode_template(
    probs: npt.NDArray[np.floating[Any]], cs: CharsetIndex, template: PlateTemplate
) -> ConstrainedReading | None:
    """Best path of ``probs`` ``[T, C]`` that emits exactly ``template``'s positions in order.

    Returns ``None`` when the template cannot be spelled: a position whose characters are all
    missing from the charset, a marker position never reaching :data:`MIN_POSITION_PROB`, or
    fewer time steps than characters.
    """
    if probs.ndim != 2 or probs.shape[1] != cs.size:
        raise ValueError(f"probs must be [T, {cs.size}], got {probs.shape}")
    n_steps, n_pos = probs.shape[0], template.length
    pos_chars: list[list[str]] = []
    for allowed in template.positions:
        chars = sorted(c for c in allowed if c in cs.index)
        if not chars:
            return None
        pos_chars.append(chars)
    if n_steps < n_pos:
        return None
    width = max(len(c) for c in pos_chars)
    cls = np.zeros((n_pos, width), dtype=np.int64)
    valid = np.zeros((n_pos, width), dtype=bool)
    for i, chars in enumerate(pos_chars):
        cls[i, :len(chars)] = [cs.index[c] for c in chars]
        valid[i, :len(chars)] = True
    # only the columns the template can emit are needed (the charset may have 18k classes)
    p_emit = probs[:, cls]  # [T, L, K]
    seen = np.where(valid[None], p_emit, 0.0).max(axis=(0, 2))  # best chance per position
    markers = valid.sum(axis=1) <= MARKER_MAX_CHARS
    if bool((markers & (seen < MIN_POSITION_PROB)).any()):
        return None  # e.g. the trailer template when no step shows any sign of 挂
    lb = _blank_logp(probs, cs)
    emit = np.where(valid[None], _log(p_emit), NEG)
    # same[i, k, k'] : char k at position i equals char k' at position i-1 (needs a blank between)
    same = np.zeros((n_pos, width, width), dtype=bool)
    for i in range(1, n_pos):
        same[i] = (cls[i][:, None] == cls[i - 1][None, :]) & valid[i][:, None] & valid[i - 1][None]

    blank = np.full(n_pos + 1, NEG)  # blank[i]: in the blank run before position i
    chars_s = np.full((n_pos, width), NEG)
    blank[0] = lb[0]
    chars_s[0] = emit[0, 0]
    # back-pointers: for chars 0 stay, 1 from blank[i], 2 from chars[i-1, arg]; blank 0 stay, 1 from
    # chars[i-1, arg]
    bp_c = np.zeros((n_steps, n_pos, width), dtype=np.int8)
    bp_ck = np.zeros((n_steps, n_pos, width), dtype=np.int64)
    bp_b = np.zeros((n_steps, n_pos + 1), dtype=np.int8)
    bp_bk = np.zeros((n_steps, n_pos + 1), dtype=np.int64)
    rows = np.arange(n_pos)
    li, ki = rows[:, None], np.arange(width)[None, :]
    prev_shift = np.full((n_pos, width), NEG)
    for t in range(1, n_steps):
        prev_c, prev_b = chars_s, blank
        # best predecessor char at position i-1 for each (i, k), excluding an identical char:
        # the best of position i-1 unless it is char k itself, then the second best (the
        # characters of one position are distinct, so at most one predecessor is excluded)
        prev_shift[1:] = prev_c[:-1]  # [L, K] of pos i-1
        top1 = prev_shift.argmax(axis=1)
        v1 = prev_shift[rows, top1]
        masked = prev_shift.copy()
        masked[rows, top1] = NEG
        top2 = masked.argmax(axis=1)
        v2 = masked[rows, top2]
        conflict = same[li, ki, top1[:, None]]  # [L, K]
        from_prev_k = np.where(conflict, top2[:, None], top1[:, None])
        from_prev = np.where(conflict, v2[:, None], v1[:, None])
        opts = np.stack([prev_c, np.broadcast_to(prev_b[:n_pos, None], prev_c.shape), from_prev])
        choice = opts.argmax(axis=0)
        chars_s = opts.max(axis=0) + emit[t]
        chars_s[~valid] = NEG
        bp_c[t], bp_ck[t] = choice, from_prev_k
        best_k = prev_c.argmax(axis=1)
        from_c = np.concatenate([[NEG], prev_c.max(axis=1)])
        b_choice = (from_c > prev_b).astype(np.int8)
        blank = np.maximum(prev_b, from_c) + lb[t]
        bp_b[t], bp_bk[t, 1:] = b_choice, best_k
    end_b, end_c = blank[n_pos], chars_s[n_pos - 1].max()
    best = max(end_b, end_c)
    if best <= NEG / 2:
        return None
    # backtrack: state is ("b", i) or ("c", i, k)
    picked = [-1] * n_pos
    conf = [0.0] * n_pos
    first = [n_steps] * n_pos
    last = [-1] * n_pos
    state: tuple[str, int, int] = ("b", n_pos, 0) if end_b >= end_c else (
        "c", n_pos - 1, int(chars_s[n_pos - 1].argmax()))
    for t in range(n_steps - 1, -1, -1):
        kind, i, k = state
        if kind == "c":
            picked[i] = k
            conf[i] = max(conf[i], float(np.exp(emit[t, i, k])))
            first[i], last[i] = min(first[i], t), max(last[i], t)
            if t == 0:
                break
            c = bp_c[t, i, k]
            state = ("c", i, k) if c == 0 else ("b", i, 0) if c == 1 else (
                "c", i - 1, int(bp_ck[t, i, k]))
        else:
            if t == 0:
                break
            state = ("b", i, 0) if bp_b[t, i] == 0 else ("c", i - 1, int(bp_bk[t, i]))
    if min(picked) < 0:
        return None
    text = "".join(pos_chars[i][k] for i, k in enumerate(picked))
    greedy = float(np.maximum(_log(probs.max(axis=1)), lb).sum())
    return ConstrainedReading(template=template, text=text, char_conf=tuple(conf),
                              log_score=float(best), greedy_log_score=greedy,
                              spans=tuple(zip(first, last, strict=True)))


def decode_best(
    probs: npt.NDArray[np.floating[Any]], cs: CharsetIndex, templates: Sequence[PlateTemplate]
) -> ConstrainedReading | None:
    """Best-scoring reading over several templates (ties: earlier template wins)."""
    best: ConstrainedReading | None = None
    for tpl in templates:
        r = decode_template(probs, cs, tpl)
        if r is not None and (best is None or r.log_score > best.log_score):
            best = r
    return best


@dataclass(frozen=True)
class RestrictedText:
    """Greedy reading over a restricted alphabet. ``char_probs[i]``: the top alternatives of
    character ``i`` (``{char: probability}`` at its most confident step, up to 3 entries)."""

    text: str
    confidence: float
    char_probs: tuple[dict[str, float], ...]


def greedy_restricted(probs: npt.NDArray[np.floating[Any]], cs: CharsetIndex,
                      allowed: str) -> RestrictedText:
    """Greedy CTC decode of ``probs`` ``[T, C]`` over ``allowed`` characters only (plus blank;
    ignorable separators count as blank). ``confidence`` is the mean max-probability of the
    kept steps (0.0 when nothing is kept). Used for Latin-only fields such as container codes,
    where the full charset's look-alike ideographs and punctuation are noise."""
    if probs.ndim != 2 or probs.shape[1] != cs.size:
        raise ValueError(f"probs must be [T, {cs.size}], got {probs.shape}")
    chars = sorted({c for c in allowed if c in cs.index})
    if not chars:
        raise ValueError("none of the allowed characters is in the charset")
    idx = np.array([cs.index[c] for c in chars], dtype=np.int64)
    p = np.asarray(probs, dtype=np.float64)
    blank_p = p[:, cs.blank]
    if cs.ignorable.size:
        blank_p = np.maximum(blank_p, p[:, cs.ignorable].max(axis=1))
    sub = p[:, idx]
    best = sub.argmax(axis=1)
    best_p = sub.max(axis=1)
    is_char = best_p > blank_p
    text: list[str] = []
    confs: list[float] = []
    peak: list[int] = []
    prev = -1
    for t in range(p.shape[0]):
        k = int(best[t]) if is_char[t] else -1
        if k >= 0 and k != prev:
            text.append(chars[k])
            confs.append(float(best_p[t]))
            peak.append(t)
        elif k >= 0 and confs and float(best_p[t]) > confs[-1]:
            confs[-1] = float(best_p[t])
            peak[-1] = t
        prev = k
    alts = []
    for t in peak:
        top = np.argsort(-sub[t])[:3]
        alts.append({chars[int(j)]: float(sub[t, j]) for j in top})
    return RestrictedText(text="".join(text), confidence=float(np.mean(confs)) if confs else 0.0,
                          char_probs=tuple(alts))
