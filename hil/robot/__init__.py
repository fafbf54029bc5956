"""Robot Framework keyword libraries. Use ``Library    hil.robot.HilLab`` in a suite."""

from hil.robot.library import HilLab

__all__ = ["HilLab"]
