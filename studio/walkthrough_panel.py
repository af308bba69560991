"""The demo's side panel: the current step in words (studio.walkthrough), and the verdict at the end."""
from __future__ import annotations

import imgui

from studio.controller import Controller
from studio.panel_frame import BAD, DIM, GOOD, WARN, Rect, begin_panel
from studio.walkthrough import UNSURE_TONE, WRONG_TONE, step_lines, verdict


TONES = {UNSURE_TONE: WARN, WRONG_TONE: BAD}


def walkthrough_panel(controller: Controller, rect: Rect) -> None:
    c = controller
    if begin_panel("Step by step", rect):
        imgui.push_text_wrap_pos(0)
        t = c.trace
        if t is not None:
            imgui.text(f"{t.problem}   step {c.step} (0-{t.steps - 1})   (left/right arrows)")
            imgui.separator()
            for line, tone in step_lines(c.step_report()):
                if tone in TONES:
                    imgui.text_colored(line, *TONES[tone])
                else:
                    imgui.text(line)
            imgui.separator()
            if c.step == t.steps - 1:
                imgui.text_colored(verdict(t), *(GOOD if t.correct else BAD))
                miss = c.first_miss()
                if miss:
                    imgui.text_colored(miss.line, *BAD)
            else:
                imgui.text_colored("press the right arrow for the next step", *DIM)
        imgui.pop_text_wrap_pos()
    imgui.end()
