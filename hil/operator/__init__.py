"""Prompts to a human operator who stands in for a missing instrument (docs/operator-prompts.md)."""

from hil.operator.base import (
    DONE,
    HUMAN_ROLES,
    TIMEOUT,
    Answer,
    ChannelUnavailable,
    OperatorChannel,
    Outcome,
    Prompt,
    choose_channel,
    has_display,
)

__all__ = [
    "DONE",
    "HUMAN_ROLES",
    "TIMEOUT",
    "Answer",
    "ChannelUnavailable",
    "OperatorChannel",
    "Outcome",
    "Prompt",
    "choose_channel",
    "has_display",
]
