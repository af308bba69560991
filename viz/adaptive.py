"""Adaptive detail: hold a frame-rate target while the view moves, full detail once it stops.

The window tells `begin` whether the frame it is about to draw moves (input, the camera) and hands
the frame's cost to `end`; `wait_s` paces moving frames at the target rate, no faster. A moving
frame may cost BUSY_SHARE of the frame interval (the budget), so that the trainer keeps the rest
of the machine: two frames in a row over the budget drop as many levels as their overrun needs
(each level costs about STEP_COST of the one above it), RAISE_AFTER frames in a row well under it
raise one level. Detail is only given up where it buys time: the controller remembers what frames
cost at each level lately, does not drop to a level that saved less than 1 - NO_GAIN, and goes
back up to a finer level that lately cost about the same (frames whose cost is in the panels, the snapshot
sync or a busy machine, not in the pixels, stay sharp).

Frames drawn within `still_s` of a motion belong to it; after that a frame is drawn at full
detail, and `still_frame_owed` tells the window one is owed when the last picture was drawn below
it: a still picture always shows full detail.

No GL and no window here: the clock is injected, so tests drive it with a fake one.
"""
from __future__ import annotations

import math
import time
from collections import deque

from viz.lod import Detail

# Level 0 is full detail. Frames on a CPU rasterizer cost about the pixels they shade, so each
# level draws ~0.87x the pixels per axis (~0.76x the area) of the one above, and smaller budgets.
LEVELS = (Detail(1.0, 1.0), Detail(0.87, 0.8), Detail(0.76, 0.65), Detail(0.66, 0.5),
          Detail(0.57, 0.4), Detail(0.5, 0.3), Detail(0.43, 0.25), Detail(0.38, 0.2),
          Detail(0.33, 0.15), Detail(0.29, 0.12), Detail(0.25, 0.1))
BUSY_SHARE = 0.6         # of the frame interval a moving frame may cost
STEP_COST = 0.76         # a frame's cost at one level down, as a share of this one's
TOLERANCE = 1.1          # frames up to 10% over the budget are not worth a level
RAISE_BELOW = 0.68       # x budget: one level up (1 / STEP_COST dearer) still fits with 10% spare
RAISE_AFTER = 6          # moving frames in a row under RAISE_BELOW before a level comes back
NO_GAIN = 0.9            # a coarser level that costs over 90% of a finer one is not worth its blur
FRESH_S = 3.0            # frame costs older than this say little about the view on screen now
STILL_S = 0.3            # seconds without motion after which the picture is still
HISTORY = 120            # frame times kept for the performance panel's plot
PACE_FRAMES = 5          # moving frames whose dearest cost the next one is expected to take
PACE_MARGIN = 1.2        # x that cost: frames on a busy machine vary by about this much
SOFTWARE_FPS, GPU_FPS = 30.0, 60.0
MIN_FPS, MAX_FPS = 5.0, 240.0


TARGET_HELP = "frames/s to hold while the view moves, by lowering detail (default: 30 on software GL, 60 on a GPU)"


def frames_per_s(text: str) -> float:
    """A frame-rate target as typed (argparse `type=` of --fps-target): a positive number."""
    fps = float(text)
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"{text!r} is not a positive number of frames/s")
    return fps


def default_target(software: bool) -> float:
    """Frames per second to hold: what a CPU rasterizer can give, else a display's refresh."""
    return SOFTWARE_FPS if software else GPU_FPS


class AdaptiveDetail:
    def __init__(self, target_fps: float = SOFTWARE_FPS, still_s: float = STILL_S,
                 clock=time.perf_counter, levels: tuple[Detail, ...] = LEVELS):
        self.levels = levels
        self.still_s = still_s
        self.clock = clock
        self.target_fps = target_fps
        self.level = 0                     # of the frame begun last (0: full detail)
        self.recent: deque[float] = deque(maxlen=HISTORY)   # frame times, ms, oldest first
        self._moving_level = 0             # the level moving frames are drawn at
        self._moving = False               # the frame begun last belongs to a motion
        self._last_motion = -math.inf
        self._ended_at = -math.inf         # when the last frame was done (shown)
        self._moving_costs: deque[float] = deque(maxlen=PACE_FRAMES)   # ms, the last moving frames
        self._previous_ms: float | None = None   # the moving frame before this one at this level
        self._fast = 0                     # moving frames in a row cheap enough to raise a level
        self._costs: dict[int, tuple[float, float]] = {}   # level -> (recent cost ms, when)

    @property
    def target_fps(self) -> float:
        return self._target_fps

    @target_fps.setter
    def target_fps(self, fps: float) -> None:
        self._target_fps = min(max(frames_per_s(fps), MIN_FPS), MAX_FPS)

    @property
    def target_ms(self) -> float:
        """The frame interval at the target rate."""
        return 1000.0 / self._target_fps

    @property
    def budget_ms(self) -> float:
        """What a moving frame may cost."""
        return BUSY_SHARE * self.target_ms

    def wait_s(self) -> float:
        """Seconds until the next moving frame should start (<= 0: now). A frame is seen when
        it is done, so frames are paced by their ends: the next one starts a frame interval after
        the last one ended, less PACE_MARGIN times what the dearest of the last PACE_FRAMES
        moving frames cost, so that it is shown on time unless it costs more than that. (Paced
        by their starts, every frame dearer than the one before came late.)"""
        interval = 1.0 / self._target_fps
        expected = min(PACE_MARGIN * max(self._moving_costs, default=0.0) / 1000.0, interval)
        return self._ended_at + interval - expected - self.clock()

    @property
    def detail(self) -> Detail:
        return self.levels[self.level]

    def begin(self, moving: bool, full: bool = False) -> Detail:
        """The detail of the frame about to be drawn; `moving`: input or the camera asked for it,
        `full`: it must be drawn at full detail whatever happens (a screenshot)."""
        now = self.clock()
        if moving:
            self._last_motion = now
        self._moving = not full and now - self._last_motion < self.still_s
        self.level = self._moving_level if self._moving else 0
        return self.detail

    def end(self, frame_ms: float) -> None:
        """The frame begun last took `frame_ms`: move the level that moving frames are drawn at."""
        self.recent.append(float(frame_ms))
        self._ended_at = self.clock()
        if not self._moving:
            return
        self._moving_costs.append(float(frame_ms))
        now, level, budget = self.clock(), self._moving_level, self.budget_ms
        cost = self._remember(level, frame_ms, now)
        known = {k: c for k in range(len(self.levels)) if (c := self._cost(k, now)) is not None}
        slow = self._previous_ms is not None and min(frame_ms, self._previous_ms) > TOLERANCE * budget
        if slow and level + 1 < len(self.levels):
            if max(known) == level:   # nothing coarser seen lately: drop as far as the overrun says
                overrun = min(frame_ms, self._previous_ms) / budget
                down = level + max(1, math.ceil(math.log(overrun) / -math.log(STEP_COST)))
            else:                     # the finest level seen to fit, else the finest about as cheap as any
                fits = [k for k, c in known.items() if k > level and c <= budget]
                cheapest = min(known.values())
                down = min(fits) if fits else min(k for k, c in known.items() if c * NO_GAIN <= cheapest)
            if down > level:
                self._set_moving_level(down)
                return
        # back up: one level when frames are cheap, or straight to the finest level lately as cheap
        same = [k for k, c in known.items() if k < level and c * NO_GAIN <= cost]
        up = min(same) if same else level - 1 if frame_ms < RAISE_BELOW * budget else None
        self._fast = self._fast + 1 if up is not None else 0
        self._previous_ms = frame_ms
        if self._fast >= RAISE_AFTER:
            self._set_moving_level(up)

    def _remember(self, level: int, frame_ms: float, now: float) -> float:
        """Fold a frame's cost into what frames at `level` cost lately; returns that."""
        known = self._cost(level, now)
        cost = frame_ms if known is None else 0.5 * (known + frame_ms)
        self._costs[level] = (cost, now)
        return cost

    def _cost(self, level: int, now: float) -> float | None:
        entry = self._costs.get(level)
        return entry[0] if entry is not None and now - entry[1] <= FRESH_S else None

    def _set_moving_level(self, level: int) -> None:
        self._moving_level = min(max(level, 0), len(self.levels) - 1)
        self._previous_ms = None   # the next decision waits for frames at the new level
        self._fast = 0

    @property
    def in_motion(self) -> bool:
        """The view moved within the last `still_s` seconds."""
        return self.clock() - self._last_motion < self.still_s

    def still_frame_owed(self) -> bool:
        """True once the motion has stopped and the last picture was drawn below full detail."""
        return self.level > 0 and self.clock() - self._last_motion >= self.still_s

    def describe(self) -> str:
        """'full detail' or 'level 3/10: 66% res., 50% cubes', for the performance panel."""
        if self.level == 0:
            return "full detail"
        d = self.detail
        return (f"level {self.level}/{len(self.levels) - 1}: {d.render_scale:.0%} res., "
                f"{d.budget_share:.0%} cubes")
