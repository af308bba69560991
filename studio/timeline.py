"""Playback: which step of the trace is on view, and the clocks that play through steps (looping)
and through training snapshots (the history replay), in whole ticks of frame time."""
from __future__ import annotations


class PlaybackClock:
    """Turns frame time into whole ticks at `rate` per second while playing."""

    def __init__(self, rate: float):
        self.rate = rate
        self.playing = False
        self._elapsed = 0.0  # ticks owed, a fraction below one between frames

    def toggle(self) -> None:
        self.playing = not self.playing
        self._elapsed = 0.0

    def stop(self) -> None:
        self.playing = False

    def ticks(self, dt: float) -> int:
        """How many ticks `dt` seconds of play make (0 while stopped)."""
        if not self.playing:
            return 0
        self._elapsed += dt * self.rate
        whole = int(self._elapsed)
        self._elapsed -= whole
        return whole


class Timeline:
    """The step on view of a trace of `steps` steps, and the clock that plays them, looping."""

    def __init__(self, speed: float = 2.0):
        self.step = 0
        self.steps = 0
        self.clock = PlaybackClock(speed)  # timeline steps per second while playing

    def fit(self, steps: int, keep_step: bool = True) -> None:
        """A trace of `steps` steps came on view: keep the step where it still exists, or start at 0."""
        self.steps = steps
        self.step = min(self.step, steps - 1) if keep_step else 0

    def set_step(self, step: int) -> bool:
        """Go to `step`, clamped to the trace; True when the step changed."""
        step = min(max(int(step), 0), max(self.steps - 1, 0))
        changed = step != self.step
        self.step = step
        return changed

    def toggle_play(self) -> bool:
        """Play or pause; playing from the last step starts over. True when the step changed."""
        self.clock.toggle()
        return self.clock.playing and self.step >= self.steps - 1 and self.set_step(0)

    def tick(self, dt: float) -> bool:
        """Advance by `dt` seconds of play; True when the step changed."""
        if not self.steps:
            return False
        ticks = self.clock.ticks(dt)
        return ticks > 0 and self.set_step((self.step + ticks) % self.steps)
