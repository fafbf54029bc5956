"""A virtual energy meter: a pymodbus Modbus TCP server whose registers follow the physics.

The registers are laid out and encoded by the very register map the driver decodes
(``drivers/energy_meter/maps/<model>.yaml``), so the SDM630, ABB B23 and EM340 maps can all
be served. Values are computed at read time, in the server's ``action`` hook (pymodbus 3.16
``SimDevice``), from :class:`~hil.sim.physics.BenchPhysics` on the bench's single loop.

With ``hang_after_wh`` (the lab config's ``virtual.instrument_faults``) the meter stops
answering once the bench has delivered that much energy: connections are still accepted
and kept, requests are read, but no answer ever comes - the way a meter behind a Modbus
gateway that lost power looks. It stays hung until the bench stops.
"""

from __future__ import annotations

import asyncio
from typing import Any

from drivers.energy_meter.registers import Register, load_map
from hil.sim.instruments.fault import HangFault
from hil.sim.physics import BenchPhysics

#: registers of one function closer than this are served as one block (as real meters
#: answer reads spanning undocumented addresses with zeros rather than exceptions)
_MERGE_GAP = 64
_DEFAULT_IDENTITY = {"serial_number": 20240001, "identification_code": 341}


class VirtualEnergyMeter:
    """Serve ``model``'s register map over Modbus TCP; ``port=0`` picks a free port."""

    def __init__(
        self,
        physics: BenchPhysics,
        host: str = "127.0.0.1",
        port: int = 0,
        unit_id: int = 1,
        model: str = "sdm630",
        energy_offset_wh: float = 1_234_500.0,
        identity: dict[str, int] | None = None,
        hang_after_wh: float | None = None,
    ) -> None:
        self.physics = physics
        self.host = host
        self.port = port
        self.unit_id = unit_id
        self.map = load_map(model)
        #: a real meter's register has history; the bench's energy is added to this
        self.energy_offset_wh = energy_offset_wh
        self.identity = {**_DEFAULT_IDENTITY, **(identity or {})}
        #: stop answering once the bench has delivered this much energy (Wh); None: never
        self.fault = HangFault(physics, "energy_meter", hang_after_wh)
        self._server: Any = None

    @property
    def address(self) -> str:
        return f"modbus-tcp://{self.host}:{self.port}"

    async def start(self) -> str:
        """Listen and return the driver address ``modbus-tcp://host:port``."""
        from pymodbus.server import ModbusTcpServer

        server = ModbusTcpServer(self._device(), address=(self.host, self.port))
        await server.serve_forever(background=True)
        # asyncio.Server knows the port the OS picked when port was 0
        self.port = server.transport.sockets[0].getsockname()[1]
        self._server = server
        return self.address

    async def stop(self) -> None:
        """Close the listener and every client connection; idempotent."""
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()

    @property
    def hung(self) -> bool:
        return self.fault.struck

    def is_hung(self) -> bool:
        """True once the configured fault has struck (it stays so)."""
        return self.fault.check(self.address)

    # -- register layout ---------------------------------------------------------------

    def _device(self) -> Any:
        from pymodbus.simulator import DataType, SimData, SimDevice

        def blocks(function: str) -> list[Any]:
            regs = sorted(
                (r for r in self.map.all_registers() if r.function == function),
                key=lambda r: r.address,
            )
            if not regs:  # nothing there: every read is an illegal address
                return [SimData(0, datatype=DataType.INVALID)]
            spans: list[list[int]] = []
            for reg in regs:
                end = reg.address + reg.count
                if spans and reg.address - spans[-1][1] <= _MERGE_GAP:
                    spans[-1][1] = max(spans[-1][1], end)
                else:
                    spans.append([reg.address, end])
            return [
                SimData(lo, count=hi - lo, values=0, datatype=DataType.REGISTERS, readonly=True)
                for lo, hi in spans
            ]

        no_bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS, readonly=True)]
        return SimDevice(
            id=self.unit_id,
            simdata=(no_bits, list(no_bits), blocks("holding"), blocks("input")),
            action=self._on_access,
        )

    async def _on_access(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: Any,
    ) -> None:
        """Fill the requested registers from the physics just before pymodbus answers."""
        if self.is_hung():
            await asyncio.Event().wait()  # never answers; cancelled when the bench stops
        function = {3: "holding", 4: "input"}.get(function_code)
        if function is None or set_values:
            return None
        for reg in self.map.all_registers():
            if reg.function != function:
                continue
            if reg.address < address + count and reg.address + reg.count > address:
                offset = reg.address - start_address
                registers[offset : offset + reg.count] = self._encode(reg)
        return None

    def _encode(self, reg: Register) -> list[int]:
        if reg.name in self.identity:
            from drivers.energy_meter.registers import encode_raw

            return encode_raw(self.identity[reg.name], reg.type, reg.word_order)
        return reg.encode_base(self.value(reg.name))

    # -- what the meter measures -------------------------------------------------------

    def value(self, quantity: str) -> float:
        """The meter's reading of ``quantity`` in base units (V, A, W, Wh)."""
        p = self.physics
        volts, amps = p.phase_voltages_v(), p.phase_currents_a()
        kind, _, suffix = quantity.partition("_")
        if quantity == "power_total":
            return p.power_w()
        if quantity == "energy_import":
            return self.energy_offset_wh + p.energy_wh()
        if suffix in ("l1", "l2", "l3"):
            i = int(suffix[1]) - 1
            if kind == "voltage":
                return volts[i]
            if kind == "current":
                return amps[i]
            if kind == "power":
                return volts[i] * amps[i]
        raise KeyError(f"the virtual meter does not measure {quantity!r}")
