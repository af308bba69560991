"""The training panel: run/pause, the trainer's state and metrics, and the loss and exact-match curves."""
from __future__ import annotations

import math

import imgui
import numpy as np

from studio.controller import Controller
from studio.panel_frame import BAD, DIM, GOOD, WARN, Rect, begin_panel, fmt, trust_color
from ttm.metrics import cell_grid


class TrainingPanel:
    def __init__(self, controller: Controller, device: str = "cpu", checkpoint_out: str = ""):
        self.controller = controller
        self.device = device
        self.checkpoint_out = checkpoint_out

    def draw(self, rect: Rect) -> None:
        c = self.controller
        if begin_panel("Training", rect):
            trainer = c.trainer
            if trainer is None:
                imgui.text_colored("no trainer", *DIM)
            else:
                if c.training_error:
                    state, colour = "stopped by an error", BAD
                elif not trainer.alive:
                    state, colour = "stopped", DIM
                else:
                    state, colour = ("paused", WARN) if trainer.paused else ("running", GOOD)
                if imgui.button("Run" if trainer.paused else "Pause", width=70):
                    c.toggle_training()
                imgui.same_line()
                imgui.text_colored(f"{state} on {self.device}", *colour)
                m = c.latest_metrics
                stage = m.get("stage", trainer.curriculum.stage)
                imgui.text(f"step {trainer.step:,}   examples {trainer.examples:,}")
                imgui.text(f"curriculum stage {stage} of {trainer.curriculum.final_stage}")
                imgui.same_line()
                imgui.text_colored(f"({stage}-digit operands)", *DIM)
                imgui.text(f"learning rate {fmt(m.get('lr'), '.2e')}")
                imgui.text(f"loss {fmt(m.get('loss'))}   exact match {fmt(m.get('exact'), '.1%')}")
                if m.get("cell_exact"):  # the latest evaluation; the sampler favours the weakest
                    self._cells(m["cell_exact"])
                self._plots(rect)
                if c.training_error:
                    imgui.push_text_wrap_pos(0)
                    imgui.text_colored(f"training error: {c.training_error}", *BAD)
                    imgui.pop_text_wrap_pos()
                imgui.text_colored(f"saves to {self.checkpoint_out} on exit", *DIM)
        imgui.end()

    @staticmethod
    def _cells(cell_exact: dict) -> None:
        """Exact match per cell as a grid, digits of a down and of b across (the font is
        monospaced, so columns line up), coloured as every panel colours a rate (trust_color)."""
        grid = cell_grid(cell_exact)
        imgui.text_colored("exact match %, last check:", *DIM)
        imgui.text_colored("  a\\b" + "".join(f"{b:>5}" for b in range(1, len(grid) + 1)), *DIM)
        for a, row in enumerate(grid, 1):
            imgui.text_colored(f"{a:>5}", *DIM)
            for rate in row:
                imgui.same_line(spacing=0)
                imgui.text_colored(f"{'-' if rate is None else f'{100 * rate:.0f}':>5}", *trust_color(rate))

    def _plots(self, rect: Rect) -> None:
        s = self.controller.series
        width = max(rect.w - 20, 10)
        # the two plots share what is left under the text above them, less the lines below
        below = 2 * imgui.get_text_line_height_with_spacing() + 2 * imgui.get_style().item_spacing.y
        height = max(min(60.0, (rect.h - imgui.get_cursor_pos_y() - below) / 2), 16)
        loss = np.array([v for v in s.loss if math.isfinite(v) and v > 0], np.float32)
        if len(loss):
            log = np.log10(loss).astype(np.float32)
            imgui.plot_lines("##loss", log, overlay_text=f"log10 loss {log[-1]:.2f}",
                             graph_size=(width, height))
        else:
            imgui.text_colored("loss: waiting for the first snapshot", *DIM)
        exact = np.array([v for v in s.exact if math.isfinite(v)], np.float32)
        if len(exact):
            imgui.plot_lines("##exact", exact, overlay_text=f"exact match {exact[-1]:.0%}",
                             scale_min=0.0, scale_max=1.0, graph_size=(width, height))
        else:
            imgui.text_colored("exact match: not evaluated yet", *DIM)
