"""A virtual Yokogawa WT300-series power analyser: SCPI over a TCP socket.

It answers the WT300 command subset the lab uses (long and short mnemonics, optional nodes,
``;``-joined commands with relative headers), reads the shared
:class:`~hil.sim.physics.BenchPhysics` at query time, and keeps its own integrator from
``physics.energy_wh()`` deltas. Like the real instrument it models a WT333: elements 1-3
wired to L1-L3 and the wiring unit SIGMa. An unknown header or a bad parameter produces no
answer; it queues an error that ``:STATus:ERRor?`` reports (WT300's error query).

Per-element integrals are the Sigma integral shared over the phases in use at read time,
an approximation that is exact while the phase count does not change during integration.

With ``hang_after_wh`` (the lab config's ``virtual.instrument_faults``) the analyser stops
answering once the bench has delivered that much energy: it keeps its connections and reads
what is sent, but executes nothing and answers nothing until the bench stops.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from hil.sim.instruments.fault import HangFault
from hil.sim.instruments.scpi_server import ScpiTcpServer
from hil.sim.physics import BenchPhysics

IDN = "YOKOGAWA,WT333,VIRTUAL0001,F1.03"
ELEMENTS = 3
MAX_ITEMS = 255
#: functions this analyser computes (WT300 numeric data function names)
FUNCTIONS = ("U", "I", "P", "S", "Q", "LAMBDA", "PHI", "FU", "FI", "TIME", "WH", "WHP", "WHM")
_DEFAULT_ITEMS = ["U,1", "I,1", "P,1", "S,1", "Q,1", "LAMBDA,1", "PHI,1", "FU,1", "FI,1", "NONE"]
_ERRORS = {
    113: "Undefined header",
    220: "Parameter error",
    221: "Settings conflict",
    350: "Queue overflow",
}
_NODE = re.compile(r"([A-Z*]+)([a-z]*)(<x>)?(\?)?$")


class ScpiError(Exception):
    """A command the analyser rejects; ``code`` goes to the error queue."""

    def __init__(self, code: int) -> None:
        super().__init__(_ERRORS[code])
        self.code = code


@dataclass(frozen=True)
class _Node:
    short: str
    long: str
    suffix: bool  # takes a numeric suffix, e.g. ITEM<x>
    optional: bool

    def match(self, token: str) -> tuple[bool, int | None]:
        digits = re.search(r"\d+$", token) if self.suffix else None
        word = token[: digits.start()] if digits else token
        if word not in (self.short, self.long):
            return False, None
        return True, int(digits.group()) if digits else None


def _pattern(spec: str) -> tuple[list[_Node], bool]:
    """Parse a manual-style header like ``:NUMeric[:NORMal]:ITEM<x>?``."""
    query = spec.endswith("?")
    nodes = []
    for part in re.findall(r"\[:?[^\]]+\]|[^:\[\]]+", spec.rstrip("?")):
        optional = part.startswith("[")
        m = _NODE.match(part.strip("[]:"))
        assert m, spec
        short = m.group(1)
        nodes.append(_Node(short, short + m.group(2).upper(), bool(m.group(3)), optional))
    return nodes, query


def _match(nodes: list[_Node], tokens: list[str]) -> list[int | None] | None:
    """Suffixes of a matched header, or None; optional nodes may be left out."""
    if not nodes:
        return [] if not tokens else None
    node, rest = nodes[0], nodes[1:]
    if tokens:
        ok, suffix = node.match(tokens[0])
        if ok:
            tail = _match(rest, tokens[1:])
            if tail is not None:
                return [suffix, *tail]
    if node.optional:
        return _match(rest, tokens)
    return None


def _nr3(value: float) -> str:
    return "NAN" if math.isnan(value) else f"{value:.5E}"


class VirtualPowerAnalyser(ScpiTcpServer):
    """Serve WT300-style SCPI on ``host:port``; ``port=0`` picks a free port."""

    def __init__(
        self,
        physics: BenchPhysics,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = "wt300",
        clock: Callable[[], float] = time.monotonic,
        hang_after_wh: float | None = None,
    ) -> None:
        if model != "wt300":
            raise ValueError(f"the virtual analyser models wt300 only, not {model!r}")
        self.physics = physics
        super().__init__(host, port)
        self._clock = clock
        #: stop answering once the bench has delivered this much energy (Wh); None: never
        self.fault = HangFault(physics, "power_analyser", hang_after_wh)
        self._commands = [(_pattern(spec), handler) for spec, handler in self._table()]
        self._reset()

    @property
    def hung(self) -> bool:
        return self.fault.struck

    def is_hung(self) -> bool:
        """True once the configured fault has struck (it stays so)."""
        return self.fault.check(self.address)

    # -- state -------------------------------------------------------------------------

    def _reset(self) -> None:
        self.header = True
        self.verbose = False
        self.items = {i + 1: item for i, item in enumerate(_DEFAULT_ITEMS)}
        self.item_count = len(_DEFAULT_ITEMS)
        self.errors: deque[int] = deque()
        self.integration = "RESET"
        self.input_mode = "RMS"
        self._integral_wh = 0.0
        self._integral_s = 0.0
        self._run_energy0 = 0.0
        self._run_t0 = 0.0

    def _push_error(self, code: int) -> None:
        if len(self.errors) >= 49:
            self.errors.append(350)
            return
        self.errors.append(code)

    # -- connection handling -----------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while line := await reader.readline():
                if self.is_hung():
                    continue  # read and ignored: no answer, no effect
                answers = self.handle_line(line.decode("ascii", "replace").strip())
                if answers:
                    writer.write((";".join(answers) + "\n").encode("ascii"))
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    def handle_line(self, line: str) -> list[str]:
        """Execute one program message; return the answers of its queries."""
        answers: list[str] = []
        prefix: list[str] = []
        for unit in filter(None, (u.strip() for u in line.split(";"))):
            header, _, params = unit.partition(" ")
            if header.startswith("*"):
                tokens = [header.upper()]
            elif header.startswith(":"):
                tokens = header[1:].upper().split(":")
                prefix = tokens[:-1]
            else:  # relative to the previous command's path
                tokens = prefix + header.upper().split(":")
                prefix = tokens[:-1]
            try:
                answer = self._execute(tokens, params.strip())
            except ScpiError as exc:
                self._push_error(exc.code)
                break  # the rest of the message is discarded, as on the instrument
            if answer is not None:
                answers.append(answer)
        return answers

    def _execute(self, tokens: list[str], params: str) -> str | None:
        is_query = tokens[-1].endswith("?")
        tokens = [*tokens[:-1], tokens[-1].rstrip("?")]
        for (nodes, query), handler in self._commands:
            if query != is_query:
                continue
            suffixes = _match(nodes, tokens)
            if suffixes is not None:
                return handler(suffixes, params)
        raise ScpiError(113)

    # -- the command table -------------------------------------------------------------

    def _table(self) -> list[tuple[str, Callable[[list, str], str | None]]]:
        return [
            ("*IDN?", lambda s, p: IDN),
            ("*RST", lambda s, p: self._reset()),
            ("*CLS", lambda s, p: self.errors.clear()),
            ("*OPC?", lambda s, p: "1"),
            (":COMMunicate:HEADer", lambda s, p: self._set_flag("header", p)),
            (
                ":COMMunicate:HEADer?",
                lambda s, p: self._setting("COMMunicate:HEADer", int(self.header)),
            ),
            (":COMMunicate:VERBose", lambda s, p: self._set_flag("verbose", p)),
            (":COMMunicate:REMote", lambda s, p: self._flag(p) and None),
            (":NUMeric:FORMat", lambda s, p: self._format(p)),
            (":NUMeric:FORMat?", lambda s, p: self._setting("NUMeric:FORMat", "ASCII")),
            (":NUMeric[:NORMal]:NUMber", lambda s, p: self._number(p)),
            (
                ":NUMeric[:NORMal]:NUMber?",
                lambda s, p: self._setting("NUMeric:NORMal:NUMber", self.item_count),
            ),
            (":NUMeric[:NORMal]:ITEM<x>", lambda s, p: self._set_item(s[-1], p)),
            (":NUMeric[:NORMal]:ITEM<x>?", lambda s, p: self._item_query(s[-1])),
            (":NUMeric[:NORMal]:VALue?", lambda s, p: self._values(p)),
            (":INTEGrate:STARt", lambda s, p: self._integrate("START")),
            (":INTEGrate:STOP", lambda s, p: self._integrate("STOP")),
            (":INTEGrate:RESet", lambda s, p: self._integrate("RESET")),
            (":INTEGrate:STATe?", lambda s, p: self._setting("INTEGrate:STATe", self.integration)),
            (":INTEGrate:MODE", lambda s, p: self._mode(p)),
            (":INTEGrate:MODE?", lambda s, p: self._setting("INTEGrate:MODE", "NORMAL")),
            (":INPut:WIRing?", lambda s, p: self._setting("INPut:WIRing", "P3W4")),
            ("[:INPut]:MODE", lambda s, p: self._input_mode(p)),
            ("[:INPut]:MODE?", lambda s, p: self._setting("INPut:MODE", self.input_mode)),
            (":STATus:ERRor?", lambda s, p: self._error()),
        ]

    def _setting(self, path: str, value: object, suffix: str = "") -> str:
        """A setting query's answer, with the header when ``:COMMunicate:HEADer ON``."""
        if not self.header:
            return str(value)
        nodes = [_pattern(part)[0][0] for part in path.split(":")]
        words = [n.long if self.verbose else n.short for n in nodes]
        return ":" + ":".join(words) + f"{suffix} {value}"

    def _item_query(self, index: int | None) -> str:
        return self._setting("NUMeric:NORMal:ITEM", self._item(index), suffix=str(index))

    @staticmethod
    def _flag(param: str) -> bool:
        value = param.upper()
        if value in ("ON", "1"):
            return True
        if value in ("OFF", "0"):
            return False
        raise ScpiError(220)

    def _set_flag(self, name: str, param: str) -> None:
        setattr(self, name, self._flag(param))

    def _input_mode(self, param: str) -> None:
        """RMS, VMEan or DC (the WT300's measurement mode; a DC output is read in DC)."""
        mode = param.strip().upper()
        modes = {"RMS": "RMS", "VMEAN": "VMEAN", "VMEA": "VMEAN", "DC": "DC"}
        if mode not in modes:
            raise ScpiError(220)
        self.input_mode = modes[mode]

    def _format(self, param: str) -> None:
        if param.upper() not in ("ASC", "ASCII"):
            raise ScpiError(220)  # binary FLOat output is not modelled

    def _mode(self, param: str) -> None:
        if param.upper() not in ("NORM", "NORMAL"):
            raise ScpiError(220)

    def _number(self, param: str) -> None:
        try:
            count = int(param)
        except ValueError:
            raise ScpiError(220) from None
        if not 1 <= count <= MAX_ITEMS:
            raise ScpiError(220)
        self.item_count = count

    def _item(self, index: int | None) -> str:
        if index is None or not 1 <= index <= MAX_ITEMS:
            raise ScpiError(220)
        return self.items.get(index, "NONE")

    def _set_item(self, index: int | None, param: str) -> None:
        self._item(index)  # validates the index
        function, _, element = (x.strip().upper() for x in param.partition(","))
        if function == "NONE" and not element:
            self.items[index] = "NONE"  # type: ignore[index]
            return
        function = "LAMBDA" if function in ("LAMB", "LAMBDA") else function
        if function not in FUNCTIONS:
            raise ScpiError(220)
        if element in ("SIGM", "SIGMA"):
            element = "SIGMA"
        elif not (element.isdigit() and 1 <= int(element) <= ELEMENTS):
            raise ScpiError(220)
        self.items[index] = f"{function},{element}"  # type: ignore[index]

    def _values(self, param: str) -> str:
        if param:
            try:
                index = int(param)
            except ValueError:
                raise ScpiError(220) from None
            return _nr3(self.measure(self._item(index)))
        count = self.item_count
        return ",".join(_nr3(self.measure(self.items.get(i, "NONE"))) for i in range(1, count + 1))

    def _error(self) -> str:
        if not self.errors:
            return '0,"No error"'
        code = self.errors.popleft()
        return f'{code},"{_ERRORS[code]}"'

    # -- integration -------------------------------------------------------------------

    def _integrate(self, target: str) -> None:
        state = self.integration
        if target == "START":
            if state == "START":
                raise ScpiError(221)
            self._run_energy0 = self.physics.energy_wh()
            self._run_t0 = self._clock()
        elif target == "STOP":
            if state != "START":
                raise ScpiError(221)
            self._integral_wh += self.physics.energy_wh() - self._run_energy0
            self._integral_s += self._clock() - self._run_t0
        else:  # RESET: only when not integrating
            if state == "START":
                raise ScpiError(221)
            self._integral_wh = 0.0
            self._integral_s = 0.0
        self.integration = target

    def integral_wh(self) -> float:
        """Sigma watt-hours integrated so far (while running, up to now)."""
        if self.integration == "START":
            return self._integral_wh + self.physics.energy_wh() - self._run_energy0
        return self._integral_wh

    def integral_s(self) -> float:
        if self.integration == "START":
            return self._integral_s + self._clock() - self._run_t0
        return self._integral_s

    # -- measurement -------------------------------------------------------------------

    def measure(self, item: str) -> float:
        """The value of a ``FUNCTION,ELEMENT`` item from the physics."""
        if item == "NONE":
            return math.nan
        function, _, element = item.partition(",")
        volts = self.physics.phase_voltages_v()
        amps = self.physics.phase_currents_a()
        in_use = self.physics.phases_in_use()
        if element == "SIGMA":
            u = sum(volts) / ELEMENTS
            i = sum(amps) / ELEMENTS
            p = sum(v * a for v, a in zip(volts, amps, strict=True))
            share = 1.0
        else:
            n = int(element) - 1
            u, i, p = volts[n], amps[n], volts[n] * amps[n]
            share = (1.0 / in_use) if n < in_use else 0.0
        values = {
            "U": u,
            "I": i,
            "P": p,
            "S": u * i,
            "Q": 0.0,
            "LAMBDA": 1.0 if p > 0 else math.nan,
            "PHI": 0.0,
            "FU": 50.0 if u > 0 else math.nan,
            "FI": 50.0 if i > 0 else math.nan,
            "TIME": self.integral_s(),
            "WH": self.integral_wh() * share,
            "WHP": self.integral_wh() * share,
            "WHM": 0.0,
        }
        return values[function]
