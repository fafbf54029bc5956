"""A relay channel of a Modbus TCP relay module ("modbus-relay"); the coil map is data.

``model`` picks a map in ``maps/`` (``kind: modbus``): the coil of channel 1 and how many
channels the module has. Switching writes the channel's coil (function 05, write single
coil); the state is read back from the same coil (function 01, read coils). Address:
``modbus-tcp://host[:port]`` (port 502 by default). Options: ``channel`` (1), ``model``
("waveshare-poe-eth-relay"), ``unit_id`` (1), ``timeout_s`` (2), ``readback_timeout_s``
(5). pymodbus is imported in :meth:`ModbusRelay.open`; a lock serialises requests.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

from drivers.power_relay.base import PowerRelay
from drivers.power_relay.relay_maps import ModbusRelayModel, RelayMapError, load_modbus_map


class ModbusRelay(PowerRelay):
    """One coil of a Modbus TCP relay module, wired into the station's supply."""

    def __init__(
        self,
        address: str,
        *,
        channel: int | None = None,
        model: ModbusRelayModel | None = None,
        unit_id: int | None = None,
        timeout_s: float = 2.0,
        readback_timeout_s: float = 5.0,
        **unknown: Any,
    ) -> None:
        channel = 1 if channel is None else channel
        unit_id = 1 if unit_id is None else unit_id
        model = model or "waveshare-poe-eth-relay"
        super().__init__(
            address,
            channel=channel,
            model=model,
            unit_id=unit_id,
            timeout_s=timeout_s,
            readback_timeout_s=readback_timeout_s,
        )
        if unknown:
            raise self.error(
                f"unknown option(s) {', '.join(sorted(unknown))}; this driver takes: channel, "
                "model, unit_id, timeout_s, readback_timeout_s"
            )
        try:
            self.map = load_modbus_map(model)
        except RelayMapError as exc:
            raise self.error(str(exc)) from None
        if isinstance(channel, bool) or not 1 <= int(channel) <= self.map.channels:
            raise self.error(
                f"channel must be 1..{self.map.channels} for {self.map.model}, got {channel!r}"
            )
        if timeout_s <= 0 or readback_timeout_s <= 0:
            raise self.error("timeout_s and readback_timeout_s must be > 0")
        parts = urlsplit(address)
        try:
            port = parts.port or 502
        except ValueError:
            port = -1
        if parts.scheme != "modbus-tcp" or not parts.hostname or port <= 0:
            raise self.error("address must look like modbus-tcp://host or modbus-tcp://host:port")
        self.host, self.port = parts.hostname, port
        self.channel = int(channel)
        self.coil = self.map.coil(self.channel)
        self.unit_id = int(unit_id)
        self.timeout_s = float(timeout_s)
        self.readback_timeout_s = float(readback_timeout_s)
        self._lock = threading.Lock()
        self._client: Any = None

    def open(self) -> None:
        """Connect and read the channel's coil once, so a silent module is caught here."""
        from pymodbus.client import ModbusTcpClient

        with self._lock:
            if self._client is None:
                client = ModbusTcpClient(self.host, port=self.port, timeout=self.timeout_s)
                if not client.connect():
                    client.close()
                    raise self.error(
                        f"cannot connect to {self.host}:{self.port} (refused or unreachable)"
                    )
                self._client = client
        try:
            self.is_on()
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def identify(self) -> str:
        return (
            f"{self.map.model} (unit {self.unit_id}, channel {self.channel} = coil {self.coil}, "
            f"map {self.map.name})"
        )

    def is_on(self) -> bool:
        reply = self._call("read_coils", f"read coil {self.coil}", self.coil, count=1)
        return bool(reply.bits[0])

    def switch(self, on: bool) -> None:
        what = f"switch channel {self.channel} {'on' if on else 'off'} (write coil {self.coil})"
        self._call("write_coil", what, self.coil, on)

    def _call(self, method: str, what: str, *args: Any, **kwargs: Any) -> Any:
        from pymodbus.exceptions import ModbusException

        with self._lock:
            if self._client is None:
                raise self.error(f"{what}: driver not open")
            try:
                reply = getattr(self._client, method)(*args, device_id=self.unit_id, **kwargs)
            except (ModbusException, OSError) as exc:
                raise self.error(f"{what}: {exc}") from None
        if reply.isError():
            code = getattr(reply, "exception_code", None)
            raise self.error(f"{what}: the module answered Modbus exception {code}")
        return reply
