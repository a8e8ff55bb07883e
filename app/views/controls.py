"""The controls: time and width, training, data. Widgets are made from the parameters."""
from __future__ import annotations

import threading

import panel as pn
import param
from panel.reactive import ReactiveHTML

from ..lessons import LESSONS
from ..state.session import Session
from ..state.settings import MODES, T_GRID
from .checked_input import OptionalFloatInput, checked_input
from .grid_slider import grid_slider
from .job_bar import JobBar
from .literal import literal


class TimeControls(pn.viewable.Viewer):
    """The training-time slider (log-spaced steps) with play/pause, and the width slider."""

    session = param.ClassSelector(class_=Session)
    playing = param.Boolean(default=False, label="▶ Play", doc="""
        Step through the training times, one slider position per tick.""")
    interval = param.Integer(default=300, bounds=(50, 5000), doc="Milliseconds per step.")

    def __init__(self, **params):
        super().__init__(**params)
        self._callback = None
        self._stepping = threading.Lock()
        self.session.training.param.watch(self._on_mode, "mode")

    def step(self) -> None:
        """Advance t to the next slider position; stop at the end.

        A tick that comes while the previous one still updates the views is skipped, so a
        slow machine plays slower instead of queueing ticks.
        """
        if not self._stepping.acquire(blocking=False):
            return
        try:
            self._advance()
        finally:
            self._stepping.release()

    def _advance(self) -> None:
        if not self.playing:
            return
        training = self.session.training
        i = T_GRID.index(training.t)
        if i + 1 >= len(T_GRID):
            self.playing = False
            return
        training.t = T_GRID[i + 1]

    @param.depends("playing", watch=True)
    def _play(self):
        if self.playing and self._callback is None:
            if T_GRID.index(self.session.training.t) == len(T_GRID) - 1:
                self.session.training.t = T_GRID[0]  # play again from the start
            self._callback = pn.state.add_periodic_callback(self.step, period=self.interval)
        elif not self.playing and self._callback is not None:
            self._callback.stop()
            self._callback = None

    def _on_mode(self, event):
        if event.new == "posterior":
            self.playing = False

    def __panel__(self):
        training = self.session.training
        slider = grid_slider(training, "t", "Training time t (steps)", css_classes=["t-slider"])
        play = pn.widgets.Toggle.from_param(self.param.playing, width=110, css_classes=["t-play"])
        play.param.watch(lambda e: setattr(play, "name", "❚❚ Pause" if e.new else "▶ Play"),
                         "value")
        note = pn.pane.Markdown("", styles={"font-size": "0.85em"}, margin=(0, 5))

        def mode_changed(*events):
            posterior = training.mode == "posterior"
            slider.disabled = play.disabled = posterior
            note.object = "The Bayesian posterior has no training time (t = ∞)." if posterior else ""

        training.param.watch(mode_changed, "mode")
        mode_changed()
        width = grid_slider(self.session.architecture, "width", "Width of the finite networks",
                            css_classes=["width-slider"])
        return pn.Column(slider, play, note, width, sizing_mode="stretch_width")


class TrainingControls(pn.viewable.Viewer):
    """Mode, learning rate (with its stable maximum), diag_reg, ensemble size."""

    session = param.ClassSelector(class_=Session)

    def use_safe_learning_rate(self, event=None):
        """Back to the policy: half the stable maximum of whatever network is shown."""
        self.session.training.learning_rate = None

    @param.depends("session.closed_form")
    def _learning_rate_note(self):
        result = self.session.closed_form
        if result is None:
            return pn.pane.Markdown("")
        policy = ("½ η_max, follows the network" if self.session.training.learning_rate is None
                  else "your value")
        text = (f"η = **{result.learning_rate:.3g}** ({policy}); stable maximum η_max = "
                f"**{result.max_learning_rate:.3g}**; diag_reg adds λ = {result.diag_reg:.3g} "
                f"to the train kernel.")
        if result.diverges:
            text += (" ⚠ η is at or above η_max: gradient descent **diverges** (the closed form "
                     "uses the exact discrete steps (I − ηΘ/|Y|)ᵗ).")
        return pn.pane.Markdown(text, styles={"font-size": "0.85em"},
                                css_classes=["lr-note", "lr-diverges" if result.diverges else "lr-ok"],
                                margin=(0, 5))

    def __panel__(self):
        training = self.session.training
        safe = pn.widgets.Button(label="Use ½ η_max", width=110, css_classes=["safe-lr"],
                                 description="Follow the network: half its stable maximum")
        safe.on_click(self.use_safe_learning_rate)
        return pn.Column(
            pn.widgets.RadioBoxGroup.from_param(training.param.mode, options={v: k for k, v in MODES.items()},
                                                css_classes=["mode"]),
            pn.Row(checked_input(training, "learning_rate", OptionalFloatInput,
                                 "Learning rate η (empty: ½ η_max)", format="0.[0000]",
                                 placeholder="½ η_max", css_classes=["learning-rate"]),
                   safe),
            self._learning_rate_note,
            checked_input(training, "diag_reg", pn.widgets.FloatInput,
                          "diag_reg (× mean diagonal of the train kernel)", format="0.[000000]",
                          css_classes=["diag-reg"]),
            sizing_mode="stretch_width")


class DataControls(pn.viewable.Viewer):
    """Dataset, number of points, noise, seed, and a button for a new sample."""

    session = param.ClassSelector(class_=Session)

    @param.depends("session.data_error")
    def _error(self):
        return pn.pane.Alert(literal(self.session.data_error), alert_type="danger",
                             visible=bool(self.session.data_error), css_classes=["data-error"])

    def __panel__(self):
        data, limits = self.session.data, self.session.limits
        regenerate = pn.widgets.Button(label="New sample", css_classes=["regenerate"])
        regenerate.on_click(lambda event: data.regenerate(data))
        return pn.Column(
            pn.widgets.Select.from_param(data.param.dataset, name="Dataset"),
            checked_input(data, "n_train", pn.widgets.IntInput,
                          f"Training points (≤ {limits.max_train})",
                          limit=limits.describe("max_train"), css_classes=["n-train"]),
            checked_input(data, "n_test", pn.widgets.IntInput, f"Test points (≤ {limits.max_test})",
                          limit=limits.describe("max_test"), css_classes=["n-test"]),
            pn.widgets.FloatSlider.from_param(data.param.noise, step=0.01, name="Noise (std)"),
            checked_input(data, "seed", pn.widgets.IntInput, "Seed", css_classes=["data-seed"]),
            regenerate, self._error, sizing_mode="stretch_width")


class FiniteControls(pn.viewable.Viewer):
    """The finite ensembles: on/off, size, seed, and their training's progress and stop."""

    session = param.ClassSelector(class_=Session)

    def __panel__(self):
        finite, ensembles = self.session.finite, self.session.finite_ensembles
        note = pn.pane.Markdown(pn.bind(literal, ensembles.param.note),
                                css_classes=["finite-note"], styles={"font-size": "0.85em"},
                                margin=(0, 5))
        return pn.Column(
            pn.widgets.Checkbox.from_param(finite.param.show, name="Train finite ensembles",
                                           css_classes=["finite-show"]),
            pn.widgets.IntSlider.from_param(finite.param.ensemble_size, name="Ensemble size"),
            checked_input(finite, "network_seed", pn.widgets.IntInput, "Network seed",
                          css_classes=["network-seed"]),
            JobBar(job=ensembles.job, css_class="finite"), note, sizing_mode="stretch_width")


class LessonControls(pn.viewable.Viewer):
    """The lessons: which one, previous / next step, and what to look for at this step.

    The texts are the lessons' own (app/lessons/); nothing a visitor typed is shown here.
    """

    teaching = param.Parameter(doc="The page's Teaching state (app/lessons/teaching.py).")

    def __panel__(self):
        teaching = self.teaching
        choose = pn.widgets.Select.from_param(
            teaching.param.lesson, name="", width=330, css_classes=["lesson-select"],
            options={"Lessons: choose one…": "", **{l.title: n for n, l in LESSONS.items()}})
        previous = pn.widgets.Button(label="◀ Previous", width=110, css_classes=["lesson-previous"],
                                     description="Previous step (← key)")
        following = pn.widgets.Button(label="Next ▶", width=100, css_classes=["lesson-next"],
                                      button_type="primary", description="Next step (→ key)")
        previous.on_click(lambda event: teaching.move(-1))
        following.on_click(lambda event: teaching.move(1))
        heading = pn.pane.Markdown("", css_classes=["lesson-heading"], margin=(8, 10))
        text = pn.pane.Markdown("", css_classes=["lesson-text"], margin=(0, 10),
                                sizing_mode="stretch_width")

        def show(*events):
            step = teaching.current
            previous.visible = step is not None
            text.visible = step is not None or teaching.layout == "default"  # room for figures
            if step is None:
                heading.object = ""
                text.object = ("Guided lessons set the figures up for you, step by step, and "
                               "say what to look for. Keys: → next step, ← previous, "
                               "space play/pause.")
                return
            heading.object = f"**Step {teaching.step} of {teaching.count}: {step.title}**"
            text.object = f"{step.text}  \n*{step.cite}*"

        teaching.param.watch(show, ["lesson", "step", "layout"])
        show()
        return pn.Column(pn.Row(choose, previous, following, heading, sizing_mode="stretch_width"),
                         text, sizing_mode="stretch_width", css_classes=["lessons"])


class Shortcuts(ReactiveHTML):
    """Keys for a presenter: → / PageDown next step, ← / PageUp previous, space play/pause.

    Static JavaScript: it only sends a command name (and a counter) back to the server,
    and ignores keys typed into inputs, sliders and buttons.
    """

    command = param.String(default="", doc="The last key command, 'name:count'.")

    _template = '<div id="keys" style="display: none"></div>'
    _scripts = {"render": """
      const commands = {ArrowRight: 'next', PageDown: 'next', ArrowLeft: 'previous',
                        PageUp: 'previous', ' ': 'play'};
      let count = 0;
      if (window.__iweKeys) document.removeEventListener('keydown', window.__iweKeys);
      window.__iweKeys = (event) => {
        const target = event.composedPath()[0] || {};
        const tag = (target.tagName || '').toUpperCase();
        const role = target.getAttribute ? target.getAttribute('role') : null;
        if (['INPUT', 'TEXTAREA', 'SELECT', 'BUTTON'].includes(tag) || role === 'slider'
            || target.isContentEditable || event.ctrlKey || event.metaKey || event.altKey) return;
        const command = commands[event.key];
        if (!command) return;
        event.preventDefault();
        count += 1;
        data.command = command + ':' + count;
      };
      document.addEventListener('keydown', window.__iweKeys);
    """}
