"""A Tk dialog with **Done** / **Cannot do** and a timeout (Robot's Dialogs have none).

Only used when a display exists (``DISPLAY`` / ``WAYLAND_DISPLAY`` and tkinter): the
dialog closes itself after ``prompt.timeout_s`` with ``after()``.
"""

from __future__ import annotations

from typing import Any

from hil.operator.base import DONE, TIMEOUT, Answer, OperatorChannel, Outcome, Prompt


class TkChannel(OperatorChannel):
    name = "tk"

    def ask(self, prompt: Prompt) -> Answer:
        import tkinter as tk

        result: list[Answer] = []
        root = tk.Tk()
        root.title(f"HIL lab: {prompt.title}")
        root.attributes("-topmost", True)
        frame = tk.Frame(root, padx=16, pady=16)
        frame.pack(fill="both", expand=True)
        tk.Label(frame, text=prompt.title, font=("TkDefaultFont", 10, "bold")).pack(anchor="w")
        tk.Label(
            frame,
            text=prompt.instruction,
            wraplength=420,
            justify="left",
            font=("TkDefaultFont", 14),
        ).pack(anchor="w", pady=8)
        left = tk.StringVar()
        tk.Label(frame, textvariable=left).pack(anchor="w")
        reason = tk.StringVar()
        entry = tk.Entry(frame, textvariable=reason, width=50)
        buttons = tk.Frame(frame)
        buttons.pack(anchor="w", pady=8)
        remaining = [int(prompt.timeout_s)]

        def finish(answer: Answer) -> None:
            if not result:
                result.append(answer)
            root.destroy()

        def cannot() -> None:
            if not entry.winfo_ismapped():
                tk.Label(frame, text="Why can it not be done?").pack(anchor="w")
                entry.pack(anchor="w")
                entry.focus_set()
                return
            finish(Answer(Outcome.CANNOT, reason.get().strip() or "no reason given"))

        def tick() -> None:
            left.set(f"Time left: {remaining[0]} s")
            remaining[0] -= 1
            if remaining[0] >= 0:
                root.after(1000, tick)

        tk.Button(buttons, text="Done", command=lambda: finish(DONE)).pack(side="left")
        tk.Button(buttons, text="Cannot do", command=cannot).pack(side="left", padx=8)
        root.protocol("WM_DELETE_WINDOW", cannot)
        root.after(int(prompt.timeout_s * 1000), lambda: finish(TIMEOUT))
        tick()
        _run(root)
        return result[0] if result else TIMEOUT


def _run(root: Any) -> None:
    root.mainloop()
