"""The virtual bench process: one physics model, the virtual station, virtual instruments.

Started by the bench launcher as ``hil sim --lab FILE --csms-url URL``. When everything
listens it prints one line, ``HIL-BENCH-READY {json}``, with the address of every virtual
instrument; it runs until its stdin closes (the launcher went away, however it died) or it
gets SIGTERM or SIGINT, so it never outlives the run that started it. It always shuts its
servers down and exits with 0 (stdin closed), 130 (SIGINT, Ctrl-C) or 143 (SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hil.lab.config import LabConfig
from hil.lab.launcher import READY_PREFIX
from hil.sim.instruments.dc_ev_emulator import VirtualDcEvEmulator
from hil.sim.instruments.ev_serial import VirtualEvSimulator
from hil.sim.instruments.lem_dcbm import VirtualLemDcbm
from hil.sim.instruments.modbus_meter import VirtualEnergyMeter
from hil.sim.instruments.rfid_reader import VirtualRfidReader
from hil.sim.instruments.scpi_analyser import VirtualPowerAnalyser
from hil.sim.instruments.snmp_pdu import VirtualPdu
from hil.sim.instruments.snmp_switch import VirtualSwitch
from hil.sim.network import BlackholeRelay
from hil.sim.physics import BenchPhysics
from hil.sim.station.power_stage import DcOutput, DcPowerStage
from hil.sim.station.security import connect_options
from hil.sim.station.station import VirtualStation

LOG = logging.getLogger("hil.sim")


class CsmsUrlError(ValueError):
    """A ``--csms-url`` no station could ever connect to; the message is one line."""


def check_csms_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a back office URL, or :class:`CsmsUrlError` saying what is
    wrong with it: the scheme must be ``ws`` or ``wss``, the host given, the port 1-65535
    (default 80 for ``ws``, 443 for ``wss``)."""
    shown = f"--csms-url {url!r}"
    if not url.strip():
        raise CsmsUrlError(f"{shown}: empty; give the back office URL, e.g. ws://127.0.0.1:9000")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # "Port out of range 0-65535", "Port could not be cast ..."
        reason = str(exc)
        if "out of range" in reason:
            reason = "the port is out of range (1-65535)"
        elif "cast" in reason:
            reason = "the port is not a number"
        raise CsmsUrlError(f"{shown}: {reason}") from None
    if parts.scheme not in ("ws", "wss"):
        given = f"not '{parts.scheme}://'" if parts.scheme else "and it has none"
        raise CsmsUrlError(
            f"{shown}: the scheme must be ws:// or wss:// (OCPP-J is a WebSocket), {given}"
        )
    if not parts.hostname:
        raise CsmsUrlError(f"{shown}: no host; e.g. ws://127.0.0.1:9000")
    if port == 0:
        raise CsmsUrlError(f"{shown}: port 0 is not a port to connect to (1-65535)")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "wss" else 80)


class VirtualBench:
    """Everything of the virtual bench that runs on its one asyncio loop."""

    def __init__(self, cfg: LabConfig, csms_url: str, tls_dir: Path | None = None) -> None:
        self.cfg = cfg
        self.scheme, self.csms_host, self.csms_port = check_csms_url(csms_url)
        self.csms_url = csms_url
        self.tls_dir = tls_dir  # the run's ``auto`` certificates (security profiles 2, 3)
        self.physics = BenchPhysics(supply_phases=cfg.dut.phases)
        self.station: VirtualStation | None = None
        self.addresses: dict[str, str] = {}
        self._servers: list[Any] = []
        self._station_task: asyncio.Task[None] | None = None
        self._stage_task: asyncio.Task[None] | None = None

    async def start(self) -> dict[str, str]:
        """Start the station and every virtual instrument the lab config asks for."""
        wanted = {
            role
            for role, inst in self.cfg.instruments
            if inst is not None and inst.address == "virtual"
        }
        relay = BlackholeRelay(self.csms_host, self.csms_port)
        await self._started(relay)
        host, port = relay.address or ("127.0.0.1", 0)
        station_cls = VirtualStation
        if self.cfg.dut.ocpp == "2.0.1":  # the 2.0.1 front-end on the same station model
            from hil.sim.station.v201.station import VirtualStation201

            station_cls = VirtualStation201
        self.station = station_cls(
            self.cfg,
            self.physics,
            f"{self.scheme}://{host}:{port}",
            connect_options(self.cfg, self.tls_dir),
        )
        # through the relay (the network cable); messages name the real back office
        self.station.network = relay
        self.station.back_office_url = self.csms_url.rstrip("/") + "/" + self.cfg.dut.station_id
        # virtual.instrument_faults: the instrument hangs once the bench delivered after_wh
        hang = {fault.role: fault.after_wh for fault in self.cfg.virtual.instrument_faults}
        instruments: dict[str, Any] = {
            "ev_simulator": lambda: VirtualEvSimulator(self.physics),
            "energy_meter": lambda: VirtualEnergyMeter(
                self.physics, hang_after_wh=hang.get("energy_meter")
            ),
            # on a DC station the analyser's element 1 is across the DC output
            "power_analyser": lambda: VirtualPowerAnalyser(
                self._measured(), hang_after_wh=hang.get("power_analyser")
            ),
            "network_switch": lambda: VirtualSwitch({self._switch_port(): relay}),
            "identification": lambda: VirtualRfidReader(self.station.charging.present_tag),
            # the PDU outlet options.outlet is the station's mains
            "power_relay": lambda: VirtualPdu(
                {self._relay_outlet(): self.station.set_mains}, model=self._relay_model()
            ),
            # DC stations: the EV emulator plays the EV's session; the station's power
            # stage (hil.sim.station.power_stage) offers power through it and feeds the meter
            "dc_ev_emulator": lambda: VirtualDcEvEmulator(),
            "dc_meter": lambda: _ThreadedServer(VirtualLemDcbm()),
        }
        stage = self.station.charging.power_stage
        for role in sorted(wanted):
            if role not in instruments:
                raise ValueError(f"the virtual bench has no virtual {role}")
            server = instruments[role]()
            self.addresses[role] = await self._started(server)
            if role == "dc_ev_emulator":
                stage.attach(emulator=server)
            elif role == "dc_meter":
                stage.attach(meter=server.server)
        self._station_task = asyncio.create_task(self.station.run(), name="virtual-station")
        self._stage_task = asyncio.create_task(stage.run(), name="virtual-power-stage")
        return self.addresses

    def _measured(self) -> Any:
        """What an analyser on the station's output measures: the AC physics, or the DC
        output of a DC station's power stage."""
        assert self.station is not None
        stage = self.station.charging.power_stage
        return DcOutput(stage) if isinstance(stage, DcPowerStage) else self.physics

    def _switch_port(self) -> int:
        switch = self.cfg.instruments.network_switch
        return int(switch.options.get("port", 1)) if switch else 1

    def _relay_outlet(self) -> int:
        relay = self.cfg.instruments.power_relay
        return int(relay.options.get("outlet", 1)) if relay else 1

    def _relay_model(self) -> str:
        """The outlet map the virtual PDU serves: the one the snmp-pdu driver is told."""
        relay = self.cfg.instruments.power_relay
        return str(relay.options.get("model") or "apc-powernet") if relay else "apc-powernet"

    async def _started(self, server: Any) -> Any:
        address = await server.start()
        self._servers.append(server)
        return address

    async def stop(self) -> None:
        if self._stage_task is not None:
            self._stage_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._stage_task
        if self.station is not None:
            await self.station.stop()
        if self._station_task is not None:
            self._station_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._station_task
        for server in reversed(self._servers):
            with contextlib.suppress(Exception):
                await server.stop()


class _ThreadedServer:
    """A server with its own thread (start/stop not coroutines) as the bench starts them."""

    def __init__(self, server: Any) -> None:
        self.server = server

    async def start(self) -> str:
        self.server.start()
        return str(self.server.address)

    async def stop(self) -> None:
        self.server.stop()


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Stop the bench when stdin reaches EOF: the launching process is gone.

    The thread reads file descriptor 0 with :func:`os.read`, not ``sys.stdin.buffer``: a
    daemon thread blocked inside the buffered reader holds its lock, and the interpreter,
    which flushes and closes ``sys.stdin`` when it shuts down, would then abort with
    "Fatal Python error: _enter_buffered_busy". ``os.read`` holds no Python-level lock.
    """

    def reader() -> None:
        try:
            while os.read(_STDIN_FD, 1024):
                pass
        except OSError:  # no usable stdin: nobody can keep the bench alive through it
            pass
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=reader, name="stdin-watch", daemon=True).start()


_STDIN_FD = 0
#: exit status after a stop signal: the shell's convention, 128 + the signal's number
EXIT_SIGINT = 128 + signal.SIGINT  # 130
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143


async def serve(cfg: LabConfig, csms_url: str, tls_dir: Path | None = None) -> int:
    """Run the bench until stdin closes (returns 0) or a stop signal (returns 128 + signo)."""
    bench = VirtualBench(cfg, csms_url, tls_dir)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    received: list[signal.Signals] = []

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal, sig)
    _watch_stdin(loop, stop)
    try:
        addresses = await bench.start()
        print(READY_PREFIX + json.dumps({"instruments": addresses}), flush=True)
        await stop.wait()
    finally:
        await bench.stop()
        why = f"on {received[0].name}" if received else "(stdin closed)"
        LOG.info("virtual bench stopped %s", why)
    return 128 + int(received[0]) if received else 0


def main(cfg: LabConfig, csms_url: str, tls_dir: Path | None = None) -> int:
    """Run the virtual bench; the exit status is 0, or 130 after SIGINT, 143 after SIGTERM."""
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("websockets").setLevel(logging.WARNING)
    logging.getLogger("ocpp").setLevel(logging.WARNING)
    try:
        return asyncio.run(serve(cfg, csms_url, tls_dir))
    except KeyboardInterrupt:  # Ctrl-C before the loop's own handler was in place
        LOG.info("virtual bench stopped on SIGINT")
        return EXIT_SIGINT
