"""One Modbus energy meter driver that reads any meter by its register map.

Addresses:

- ``modbus-tcp://host[:port]`` (port 502 by default), Modbus TCP framing;
- ``modbus-rtu:///dev/ttyUSB0?baudrate=9600&parity=N`` (serial line settings in the query
  or in the options), Modbus RTU framing on a serial port;
- ``modbus-rtu-over-tcp://host:port``: RTU frames through a transparent RS-485/Ethernet
  converter (pyserial's ``socket://``).

Options: ``unit_id`` (default 1), ``timeout_s`` (default 2), ``retries`` (default 1),
``register_map`` (path of a YAML map replacing the bundled one), and for RTU ``baudrate``,
``parity``, ``stopbits``, ``bytesize``.

pymodbus is imported in :meth:`ModbusEnergyMeter.open`. A lock serialises transactions,
because the background sampler and a keyword may read the same meter concurrently.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from drivers.energy_meter.base import EnergyMeter
from drivers.energy_meter.registers import (
    Register,
    RegisterMap,
    RegisterMapError,
    load_map,
    load_map_file,
    not_available,
)

#: quantity prefix -> (low, high) bounds of a believable reading in base units
PLAUSIBLE = {
    "voltage": (0.0, 1000.0),
    "current": (-2000.0, 2000.0),
    "power": (-2.0e6, 2.0e6),
    "energy": (0.0, 1.0e13),
}
EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}
MAX_REGISTERS_PER_READ = 125
_OPTIONS = {
    "unit_id",
    "timeout_s",
    "retries",
    "register_map",
    "baudrate",
    "parity",
    "stopbits",
    "bytesize",
}
_SERIAL_DEFAULTS: dict[str, Any] = {"baudrate": 9600, "parity": "N", "stopbits": 1, "bytesize": 8}


@dataclass(frozen=True)
class Transport:
    """Where and how to reach the meter, parsed from the address and options."""

    kind: str  # "tcp" | "rtu"
    host: str = ""
    port: int = 502
    serial_port: str = ""
    baudrate: int = 9600
    parity: str = "N"
    stopbits: int = 1
    bytesize: int = 8


def parse_address(address: str, options: dict[str, Any]) -> Transport:
    """Parse a meter address; ValueError says what is wrong with it."""
    parts = urlsplit(address)
    query = dict(parse_qsl(parts.query))
    if parts.scheme == "modbus-tcp":
        if query:
            raise ValueError("modbus-tcp addresses take no query; use options (unit_id)")
        if not parts.hostname:
            raise ValueError("modbus-tcp address needs a host, e.g. modbus-tcp://10.0.0.5:502")
        return Transport(kind="tcp", host=parts.hostname, port=parts.port or 502)
    if parts.scheme in ("modbus-rtu", "modbus-rtu-over-tcp"):
        line = dict(_SERIAL_DEFAULTS)
        unknown = set(query) - set(line)
        if unknown:
            raise ValueError(f"unknown serial setting(s) {', '.join(sorted(unknown))}")
        line.update(query)
        line.update({k: options[k] for k in line if k in options})
        try:
            settings = {
                "baudrate": int(line["baudrate"]),
                "parity": str(line["parity"]).upper(),
                "stopbits": int(line["stopbits"]),
                "bytesize": int(line["bytesize"]),
            }
        except (TypeError, ValueError):
            raise ValueError(f"bad serial settings {line}") from None
        if settings["parity"] not in ("N", "E", "O"):
            raise ValueError(f"parity must be N, E or O, got {settings['parity']!r}")
        if parts.scheme == "modbus-rtu":
            if not parts.path:
                raise ValueError(
                    "modbus-rtu address needs a device, e.g. modbus-rtu:///dev/ttyUSB0"
                )
            return Transport(kind="rtu", serial_port=parts.path, **settings)
        if not parts.hostname or not parts.port:
            raise ValueError("modbus-rtu-over-tcp address needs host:port")
        url = f"socket://{parts.hostname}:{parts.port}"
        return Transport(
            kind="rtu", serial_port=url, host=parts.hostname, port=parts.port, **settings
        )
    raise ValueError(
        f"unsupported scheme {parts.scheme!r}; use modbus-tcp://, modbus-rtu:// "
        "or modbus-rtu-over-tcp://"
    )


class ModbusEnergyMeter(EnergyMeter):
    """Reads voltages, currents, power and energy by the model's register map."""

    #: bundled map (``maps/<MAP_NAME>.yaml``) of the model a subclass drives
    MAP_NAME: ClassVar[str] = ""

    def __init__(self, address: str, **options: Any) -> None:
        super().__init__(address, **options)
        unknown = set(options) - _OPTIONS
        if unknown:
            known = ", ".join(sorted(_OPTIONS))
            raise self.error(f"unknown option(s) {', '.join(sorted(unknown))}; known: {known}")
        try:
            custom = options.get("register_map")
            self.map: RegisterMap = load_map_file(custom) if custom else load_map(self.MAP_NAME)
            self.transport = parse_address(address, options)
        except (RegisterMapError, ValueError) as exc:
            raise self.error(str(exc)) from None
        self.unit_id = int(options.get("unit_id", 1))
        self.timeout_s = float(options.get("timeout_s", 2.0))
        self.retries = int(options.get("retries", 1))
        self._lock = threading.Lock()
        self._client: Any = None

    # -- connection --------------------------------------------------------------------

    def _make_client(self) -> Any:
        from pymodbus.client import ModbusSerialClient, ModbusTcpClient
        from pymodbus.framer import FramerType

        t = self.transport
        if t.kind == "tcp":
            return ModbusTcpClient(
                t.host, port=t.port, timeout=self.timeout_s, retries=self.retries
            )
        return ModbusSerialClient(
            t.serial_port,
            framer=FramerType.RTU,
            baudrate=t.baudrate,
            parity=t.parity,
            stopbits=t.stopbits,
            bytesize=t.bytesize,
            timeout=self.timeout_s,
            retries=self.retries,
        )

    def open(self) -> None:
        """Connect and read the energy register once, so a silent bus is caught here."""
        with self._lock:
            if self._client is None:
                client = self._make_client()
                if not client.connect():
                    client.close()
                    where = (
                        self.transport.serial_port or f"{self.transport.host}:{self.transport.port}"
                    )
                    raise self.error(f"cannot connect to {where} (refused, unreachable or busy)")
                self._client = client
        try:
            self.read_energy_wh()
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    # -- transactions ------------------------------------------------------------------

    def _transaction(self, function: str, address: int, count: int) -> list[int]:
        """One Modbus read under the lock; every failure becomes an InstrumentError."""
        from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

        what = f"{function} registers 0x{address:04X}..0x{address + count - 1:04X}"
        with self._lock:
            client = self._client
            if client is None:
                raise self.error("not open; call open() first")
            read = (
                client.read_input_registers
                if function == "input"
                else client.read_holding_registers
            )
            try:
                reply = read(address, count=count, device_id=self.unit_id)
            except ConnectionException as exc:
                raise self.error(f"connection lost while reading {what}: {exc}") from None
            except ModbusIOException:
                tries = self.retries + 1  # pymodbus waits timeout_s for each try
                raise self.error(
                    f"no valid answer within {self.timeout_s:g} s x {tries} "
                    f"{'try' if tries == 1 else 'tries'} reading {what} (unit {self.unit_id})"
                ) from None
            except ModbusException as exc:
                raise self.error(f"Modbus error reading {what}: {exc}") from None
            except OSError as exc:
                raise self.error(f"I/O error reading {what}: {exc}") from None
        if reply.isError():
            code = getattr(reply, "exception_code", None)
            name = EXCEPTION_NAMES.get(code, "unknown exception")
            raise self.error(f"meter answered Modbus exception {code} ({name}) reading {what}")
        registers = list(getattr(reply, "registers", []) or [])
        if len(registers) != count:
            raise self.error(f"garbled answer reading {what}: {len(registers)} registers")
        return registers

    def _read(self, names: list[str]) -> dict[str, float]:
        """Read named quantities (base units), one transaction per contiguous block."""
        regs = [self.map[name] for name in names]
        values: dict[str, float] = {}
        for block in _blocks(regs):
            start = block[0].address
            end = max(r.address + r.count for r in block)
            words = self._transaction(block[0].function, start, end - start)
            for reg in block:
                offset = reg.address - start
                raw = reg.decode_raw(words[offset : offset + reg.count])
                values[reg.name] = self._checked(reg, raw)
        return values

    def _checked(self, reg: Register, raw: int | float) -> float:
        if not_available(raw, reg.type):
            raise self.error(f"{reg.name} (0x{reg.address:04X}) not available: raw value {raw!r}")
        value = reg.to_base(raw)
        low, high = PLAUSIBLE.get(reg.name.split("_")[0], (float("-inf"), float("inf")))
        if not low <= value <= high:
            raise self.error(
                f"implausible {reg.name} {value!r} (0x{reg.address:04X}); "
                f"expected {low:g}..{high:g} - wrong register map or word order?"
            )
        return value

    # -- the role ----------------------------------------------------------------------

    def read_energy_wh(self) -> float:
        return self._read(["energy_import"])["energy_import"]

    def read_power_w(self) -> float:
        return self._read(["power_total"])["power_total"]

    def energy_resolution_wh(self, reading_wh: float) -> float:
        return self.map["energy_import"].resolution(reading_wh)

    def read_voltages_v(self) -> tuple[float, float, float]:
        v = self._read(["voltage_l1", "voltage_l2", "voltage_l3"])
        return (v["voltage_l1"], v["voltage_l2"], v["voltage_l3"])

    def read_currents_a(self) -> tuple[float, float, float]:
        v = self._read(["current_l1", "current_l2", "current_l3"])
        return (v["current_l1"], v["current_l2"], v["current_l3"])

    def identify(self) -> str:
        fields = []
        for reg in self.map.identity.values():
            words = self._transaction(reg.function, reg.address, reg.count)
            fields.append(f"{reg.name}={reg.decode_raw(words)}")
        return " ".join([self.map.model, *fields])


def _blocks(regs: list[Register]) -> list[list[Register]]:
    """Group registers into reads: same function, adjacent (no gap a meter might refuse as
    an illegal address), at most 125 registers per read."""
    blocks: list[list[Register]] = []
    for reg in sorted(regs, key=lambda r: (r.function, r.address)):
        if blocks:
            head = blocks[-1]
            head_end = max(r.address + r.count for r in head)
            span = max(head_end, reg.address + reg.count) - head[0].address
            if (
                head[0].function == reg.function
                and reg.address <= head_end
                and span <= MAX_REGISTERS_PER_READ
            ):
                head.append(reg)
                continue
        blocks.append([reg])
    return blocks
