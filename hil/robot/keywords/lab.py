"""Opening and closing the lab, remarks, and the station's power."""

from __future__ import annotations

from pathlib import Path

from robot.api import logger
from robot.api.deco import keyword
from robot.libraries.BuiltIn import BuiltIn

from hil.csms.journal import EVENT
from hil.lab.bench import Bench
from hil.lab.config import LabConfigError, load_lab_config
from hil.robot.context import LabContext
from hil.robot.listener import RunListener


class LabKeywords:
    def __init__(self, ctx: LabContext, listener: RunListener) -> None:
        self.ctx = ctx
        self.listener = listener

    @keyword
    def open_lab(self, lab_config: str) -> None:
        """Open the lab described by ``lab_config``: back office, virtual bench, instruments.

        A bad config fails with one line naming the file, the field and the value. On the
        virtual bench the virtual station and instruments start in their own process.
        Waits until the station has registered (BootNotification Accepted).
        """
        if self.ctx.bench is not None:
            raise RuntimeError("A lab is already open; 'Close Lab' first")
        try:
            cfg = load_lab_config(Path(lab_config).resolve())
        except LabConfigError as exc:
            raise RuntimeError(str(exc)) from None
        output_dir = Path(BuiltIn().get_variable_value("${OUTPUT DIR}", "."))
        bench = Bench(cfg, output_dir)
        bench.open()
        self.ctx.bench = bench
        self.ctx.cursor = 0
        logger.info(
            f"Lab '{cfg.lab.name}' ({cfg.lab.bench} bench) from {cfg.source}; "
            f"back office at {bench.back_office.url()}; journal "
            f"{bench.station.journal.path}",
            also_console=False,
        )
        self.wait_for_station_registration()

    @keyword
    def close_lab(self) -> None:
        """Stop everything the lab started. Safe to call when nothing is open."""
        bench, self.ctx.bench = self.ctx.bench, None
        if bench is not None:
            bench.close()

    @keyword
    def wait_for_station_registration(self, timeout: float | None = None) -> None:
        """Wait until the station's BootNotification has been answered Accepted."""
        wait = self.ctx.cfg.timings.boot_timeout_s if timeout is None else float(timeout)
        journal = self.ctx.journal
        accepted = journal.find(
            lambda f: (
                f.action == "BootNotification"
                and f.dir == "tx"
                and f.kind == "CALLRESULT"
                and (f.payload or {}).get("status") == "Accepted"
            )
        )
        if accepted:
            return
        journal.wait_for(
            lambda f: (
                f.action == "BootNotification"
                and f.dir == "tx"
                and f.kind == "CALLRESULT"
                and (f.payload or {}).get("status") == "Accepted"
            ),
            0,
            wait,
            "a BootNotification answered Accepted (is the station powered and "
            f"pointed at {self.ctx.lab.back_office.url(self.ctx.cfg.dut.station_id)}?)",
        )

    @keyword
    def lab_setting(self, path: str) -> object:
        """A value of the open lab config by dotted path, e.g. ``timings.heartbeat_interval_s``
        or ``dut.connectors``."""
        node: object = self.ctx.cfg
        for part in path.split("."):
            if not hasattr(node, part):
                raise ValueError(f"The lab config has no setting {path!r} (at {part!r})")
            node = getattr(node, part)
        return node

    @keyword
    def record_remark(self, text: str) -> None:
        """Record a SHOULD-level miss: a warning, tag ``remark``, and a line for the report."""
        output_dir = Path(BuiltIn().get_variable_value("${OUTPUT DIR}", "."))
        self.listener.record_remark(text, output_dir)
        logger.warn(f"Remark: {text}")
        if self.listener.current_test is not None:
            BuiltIn().set_tags("remark")

    @keyword
    def restart_station(self) -> int:
        """Reboot the station the way the bench can: a power cycle through the power relay
        if one is configured, otherwise a Hard reset. Waits until it connects again and
        returns the journal mark taken before the restart."""
        mark = self.ctx.mark()
        relay = self.ctx.lab.instrument("power_relay")
        if relay is not None:
            relay.power_cycle()  # type: ignore[attr-defined]
        else:
            answer = self.ctx.lab.call("Reset", {"type": "Hard"})
            if answer.get("status") != "Accepted":
                raise AssertionError(f"Station answered Reset Hard with {answer.get('status')}")
        self.ctx.journal.wait_for(
            lambda f: f.dir == EVENT and f.kind == "connect",
            mark,
            self.ctx.cfg.timings.boot_timeout_s,
            "the station to connect again after restart",
        )
        self.ctx.state["restart_mark"] = mark
        self.ctx.cursor = mark
        return mark
