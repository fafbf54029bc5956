"""HilLab: the one Robot Framework library of the lab, GLOBAL scope, with a clean close.

Keywords come from components, one per checklist area; they share a :class:`LabContext`.
The library is also a listener: findings of the back office fail the running test, and
remarks are attached to it.
"""

from __future__ import annotations

from typing import Any

from robot.errors import RobotError
from robotlibcore import DynamicCore

from hil.robot.context import LabContext
from hil.robot.keywords.cache_trigger import CacheTriggerKeywords
from hil.robot.keywords.core import CoreKeywords
from hil.robot.keywords.eichrecht import EichrechtKeywords
from hil.robot.keywords.instruments import InstrumentKeywords
from hil.robot.keywords.lab import LabKeywords
from hil.robot.keywords.maintenance import MaintenanceKeywords
from hil.robot.keywords.messages import MessageKeywords
from hil.robot.keywords.resets import ResetKeywords
from hil.robot.keywords.session import SessionKeywords
from hil.robot.keywords.smart_charging import SmartChargingKeywords
from hil.robot.keywords.step import StepKeywords
from hil.robot.listener import RunListener
from hil.verdict import LabFault


class HilLab(DynamicCore):
    """Keywords to certify an OCPP charge station (1.6J; 2.0.1 for the steps the lab checks
    on it) on a lab bench. A keyword says what the lab does; how, in the station's OCPP
    version, comes from ``hil/protocol`` (the version the station connected with).

    Open the lab in the suite setup with `Open Lab` and close it with `Close Lab`. Waits are
    event-driven on the back office's journal of OCPP frames: each successful wait moves a
    cursor to the frame it matched, so consecutive waits assert order. Every frame is
    journaled (JSON lines) in the output folder under ``journal/``.
    """

    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"

    def __init__(self) -> None:
        self.ctx = LabContext()
        self.listener = RunListener(self.ctx)
        instruments = InstrumentKeywords(self.ctx)
        super().__init__(
            [
                LabKeywords(self.ctx, self.listener),
                MessageKeywords(self.ctx),
                CoreKeywords(self.ctx),
                MaintenanceKeywords(self.ctx),
                CacheTriggerKeywords(self.ctx, instruments),
                EichrechtKeywords(self.ctx),
                instruments,
                SessionKeywords(self.ctx, instruments),
                StepKeywords(self.ctx, instruments),
                SmartChargingKeywords(self.ctx, instruments),
                ResetKeywords(self.ctx),
                self.listener,
            ]
        )

    def run_keyword(self, name: str, args: Any, kwargs: Any = None) -> Any:
        """Run a keyword; an exception that is no finding about the station becomes a lab
        error. An ``AssertionError`` is the station's (N), Robot's own control exceptions
        (skip, a nested keyword's failure) pass as they are; anything else means a keyword
        of the lab broke (a ``TypeError``, a driver's ``OSError``, a bad lab setting), and
        the station must not be blamed for it."""
        try:
            return super().run_keyword(name, args, kwargs)
        except (AssertionError, LabFault, RobotError):
            raise  # the station's N, a lab fault said as one, a nested keyword's failure
        except Exception as exc:
            if getattr(exc, "ROBOT_SKIP_EXECUTION", False) or getattr(
                exc, "ROBOT_EXIT_ON_FAILURE", False
            ):
                raise  # a skip (N/A) or a fatal error: Robot's own
            raise LabFault(
                f"the lab's keyword '{name.replace('_', ' ').title()}' broke "
                f"({type(exc).__name__}: {exc}); the station is not judged on this step"
            ) from exc
