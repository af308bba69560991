"""The causal panel ("Why?"): which memory slots the answer needs at the step on view, ranked,
each one click from being ablated; the steps x slots map of the whole answer; which slots hold a
chosen digit (linear probes, ttm.probes); patching from a second problem; and where in the
step's fx graph the last edit flowed.

The numbers come from the Controller (computed off the UI thread by studio.causal_state); this
panel only draws them and turns clicks into controller calls, showing refusals as messages.
"""
from __future__ import annotations

import imgui
import numpy as np

from studio.controller import Controller
from studio.panel_frame import BAD, DIM, GOOD, MARGIN, WARN, Rect, begin_panel, fmt
from studio.walkthrough import guess_note
from ttm import probes
from ttm import tokens as tok
from viz import colormap

TOP = 4                     # slots in the ranked list
TRAINING_SHARE = 0.55       # of the left column's upper part, above this panel
TRAINING_MAX = 400.0        # px: its text, a 4×4 cell grid and two readable plots fit in this
ACTION = {"zero": "zero it", "mean": "mean it", "source": "patch it"}
_LUT = colormap.lut("diverging")


def below_training(rect: Rect) -> tuple[Rect, Rect]:
    """Split the training panel's column: (training, causal), the causal panel underneath."""
    top = min(rect.h * TRAINING_SHARE, TRAINING_MAX)
    below = max(rect.h - top - MARGIN, 0.0)
    return Rect(rect.x, rect.y, rect.w, top), Rect(rect.x, rect.y + top + MARGIN, rect.w, below)


def act(controller: Controller, fn, *args) -> bool:
    """Call a controller action; a refusal (ValueError) becomes the controller's message, never
    an exception in the window. True when it went through."""
    try:
        fn(*args)
        return True
    except ValueError as err:
        controller.notify(str(err))
        return False


def heat_grid(values: np.ndarray, value_range: tuple[float, float], cell_w: float, cell_h: float,
              outline_row: int | None = None) -> tuple[int, int] | None:
    """Draw `values` [rows, cols] as a grid of diverging-coloured cells at the cursor (a row
    outlined); returns the (row, col) under the mouse, or None."""
    rows, cols = values.shape
    x0, y0 = imgui.get_cursor_screen_pos()
    draw = imgui.get_window_draw_list()
    shade = colormap.normalize(values, value_range, "diverging")
    for k in range(rows):
        for j in range(cols):
            r, g, b, _ = _LUT[int(round(float(shade[k, j]) * 255))]
            draw.add_rect_filled(x0 + j * cell_w, y0 + k * cell_h, x0 + (j + 1) * cell_w,
                                 y0 + (k + 1) * cell_h, imgui.get_color_u32_rgba(r, g, b, 1.0))
    if outline_row is not None and 0 <= outline_row < rows:
        draw.add_rect(x0, y0 + outline_row * cell_h, x0 + cols * cell_w, y0 + (outline_row + 1) * cell_h,
                      imgui.get_color_u32_rgba(1.0, 1.0, 1.0, 1.0))
    imgui.dummy(cell_w * cols, cell_h * rows)
    if not imgui.is_item_hovered():
        return None
    mx, my = imgui.get_mouse_pos()
    k, j = int((my - y0) // cell_h), int((mx - x0) // cell_w)
    return (k, j) if 0 <= k < rows and 0 <= j < cols else None


def parse_slots(text: str) -> list[int] | None:
    """"12, 40" or "12 40" -> [12, 40]; empty -> None. ValueError for anything else."""
    parts = text.replace(",", " ").split()
    if not all(p.isdigit() for p in parts):
        raise ValueError(f"slots are whole numbers like '12, 40', not {text!r}")
    return [int(p) for p in parts] or None


class CausalPanel:
    def __init__(self, controller: Controller):
        self.controller = controller
        self.source_text = "38x42"
        self.slots_text = ""

    def draw(self, rect: Rect) -> None:
        c = self.controller
        if begin_panel("Why?", rect):
            imgui.push_text_wrap_pos(0)
            changed, on = imgui.checkbox("effects", c.causal_overlay)
            if changed:
                c.set_causal_overlay(on)
            for ablation in ("zero", "mean", "source"):
                imgui.same_line()
                if imgui.radio_button(ablation, c.ablation == ablation):
                    act(c, c.set_ablation, ablation)
            self._effects(rect)
            imgui.separator()
            self._digits(rect)
            imgui.separator()
            self._patching()
            self._graph()
            if c.message and c.message != c.answer_change():   # the answer is shown above
                imgui.text_colored(c.message, *WARN)
            imgui.pop_text_wrap_pos()
        imgui.end()

    def _effects(self, rect: Rect) -> None:
        c = self.controller
        if not c.causal_overlay:
            imgui.text_colored("tick to see which memory slots the answer needs (the drop in "
                               "log p of the answer with each slot ablated alone)", *DIM)
            return
        running = c.causal_progress()
        if running is not None:
            label, fraction = running
            imgui.progress_bar(fraction, (-1, 0), label)
        if c.causal_error():
            imgui.text_colored(c.causal_error(), *BAD)
        effects = c.slot_effects()
        none_matters = effects.why_none_matters() if effects is not None else None
        if none_matters:
            imgui.text_colored(none_matters, *WARN)
        elif effects is not None:
            report = c.step_report()
            guess = guess_note(report) if report is not None else None
            if guess:           # in the heading's place: the panel has no row to spare
                imgui.text_colored(guess, *WARN)
            else:
                imgui.text_colored(f"slots the answer needs most, entering step {c.step}:", *DIM)
            for slot in effects.ranked(TOP):
                flips = bool(effects.changes_answer[slot])
                imgui.text(f"slot {slot:3d} {fmt(float(effects.effect[slot]), '+8.3f')}")
                imgui.same_line()
                imgui.text_colored("flips answer" if flips else "answer holds",
                                   *(BAD if flips else DIM))
                imgui.same_line()
                if imgui.small_button(f"{ACTION[effects.ablation]}##{slot}"):
                    act(c, c.ablate_slots, [slot])
        self._map(rect)

    def _digits(self, rect: Rect) -> None:
        """Which slots hold a digit: pick one, and memory is painted by how well each slot alone
        tells it; below, the digits this memory holds in a single slot and those it does not."""
        c = self.controller
        if c.trace is None:
            return
        names = probes.digit_names(c.trace.cell)
        current = names.index(c.probe_digit) + 1 if c.probe_digit in names else 0
        imgui.text_colored("memory holds:", *DIM)
        imgui.same_line()
        imgui.push_item_width(-1)
        changed, chosen = imgui.combo("##digit", current,
                                      ["(pick a digit)"] + [probes.digit_label(d) for d in names])
        imgui.pop_item_width()
        if changed:
            act(c, c.set_probe_digit, names[chosen - 1] if chosen else None)
        if c.probe_digit is None:
            imgui.text_colored("pick a digit to see which memory slots tell it (a linear probe "
                               "on each slot alone, fitted on random problems of this cell)", *DIM)
            return
        found = c.digit_probes()
        if found is None:
            running = c.causal_progress()
            if running is not None:
                imgui.progress_bar(running[1], (-1, 0), running[0])
            if c.causal_error():
                imgui.text_colored(c.causal_error(), *BAD)
            return
        if c.step >= found.states:
            imgui.text_colored(f"step {c.step} is past the shortest {found.cell[0]}x{found.cell[1]} "
                               f"product's end: not probed", *WARN)
            return
        if c.step == 0:
            imgui.text_colored("memory entering step 0 is the learned initial memory, the same for "
                               "every problem: it holds no digit yet; step on", *WARN)
        else:
            told, lost = probes.held_in_one_slot(found, c.step)
            imgui.text_colored(f"entering step {c.step}, one slot tells {100 * probes.HELD:.0f}%+ of "
                               f"the time: {', '.join(told) or 'no digit'}", *GOOD)
            if lost:
                imgui.text_colored(f"no single slot: {', '.join(lost)}", *WARN)
        self._digit_map(found, rect)

    def _digit_map(self, found: probes.DigitProbes, rect: Rect) -> None:
        """Every memory state (rows) by digit (columns), coloured by the best single slot's
        probe: where each digit comes into memory and where it leaves."""
        gain = probes.over_chance(found.accuracy.max(dim=1).values, found.chance)   # [K, D]
        imgui.text_colored("memory entering each step (rows, this one outlined) by digit:", *DIM)
        cell_w = min(max((rect.w - 24) / len(found.digits), 8.0), 40.0)
        x0, _ = imgui.get_cursor_screen_pos()
        hovered = heat_grid(gain, (-1.0, 1.0), cell_w, 10.0, outline_row=self.controller.step)
        _, y = imgui.get_cursor_screen_pos()
        draw = imgui.get_window_draw_list()
        for j, name in enumerate(found.digits):      # "a0": a's units, "p2": the product's hundreds
            draw.add_text(x0 + j * cell_w + 1, y, imgui.get_color_u32_rgba(*DIM), name)
        imgui.dummy(cell_w * len(found.digits), imgui.get_text_line_height())
        if hovered is not None:
            k, i = hovered
            h = found.holds(k)[i]
            imgui.set_tooltip(f"{probes.digit_label(h.digit)} entering step {k}: best slot {h.best_slot} "
                              f"{100 * h.best:.0f}%, {h.slots_telling} slots at {100 * probes.HELD:.0f}%+ "
                              f"(chance {100 * h.chance:.0f}%)")
        imgui.text_colored("grey: chance .. orange: always right", *DIM)

    def _map(self, rect: Rect) -> None:
        """The effect map as a heat map: a row per answer step, a column per slot."""
        rows = self.controller.overlay("effects")
        if rows is None:
            return
        values = rows.values
        imgui.text_colored("each step's digit (rows) by slot (columns):", *DIM)
        hovered = heat_grid(values, rows.value_range, max((rect.w - 24) / values.shape[1], 1.0), 7.0)
        trace = self.controller.trace
        if hovered is not None and trace is not None and hovered[0] < trace.steps:
            k, s = hovered
            digit = tok.SYMBOLS[int(trace["prediction"][k])]
            imgui.set_tooltip(f"step {k} (digit {digit}), slot {s}: {values[k, s]:+.3f}")
        top = rows.value_range[1]
        imgui.text_colored(f"blue {-top:+.2f} .. orange {top:+.2f}", *DIM)

    def _patching(self) -> None:
        c = self.controller
        imgui.text_colored(f"patch memory entering step {c.step} from:", *DIM)
        imgui.push_item_width(80)
        _, self.source_text = imgui.input_text("##source", self.source_text, 32)
        imgui.same_line()
        _, self.slots_text = imgui.input_text_with_hint("##slots", "slots", self.slots_text, 64)
        imgui.pop_item_width()
        imgui.same_line()
        if imgui.button("Patch slots"):
            act(c, self.patch_slots)
        imgui.same_line()
        if imgui.button("all"):
            act(c, c.patch, self.source_text, None)
        if c.edited:
            imgui.text("answer:")
            imgui.same_line()
            imgui.text_colored(c.answer_change(), *(GOOD if c.trace.correct else BAD))
            differ = c.differing_slots("memory.after")
            imgui.text_colored(f"memory after step {c.step} differs in {len(differ)} of "
                               f"{c.trace['memory'].shape[1]} slots", *DIM)

    def patch_slots(self) -> None:
        """Patch the slots typed, else the selected memory slot; ValueError when neither."""
        c = self.controller
        slots = parse_slots(self.slots_text)
        sel = c.selection
        if slots is None and sel is not None and sel.name.startswith("memory"):
            slots = [c.memory_index(sel.name, sel.index)[1]]
        if slots is None:
            raise ValueError("type slots (e.g. 12, 40) or select a memory slot to patch it")
        c.patch(self.source_text, slots)

    def _graph(self) -> None:
        c = self.controller
        changes = c.graph_change()
        if changes is None:
            return
        moved = sorted((v, n) for n, v in changes.items() if v > 0)[::-1]
        imgui.text_colored(f"fx graph of step {c.graph_change_step}: {len(moved)} of "
                           f"{len(changes)} nodes changed; most:", *DIM)
        for v, n in moved[:3]:
            imgui.bullet_text(f"{n}  {fmt(v, '.3f')}")
