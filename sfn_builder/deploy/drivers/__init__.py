"""One driver per kind of resource `create` owns."""

from __future__ import annotations

from .aliases import AliasDriver
from .base import Driver, NotOwned
from .code import CodeDriver
from .functions import FunctionDriver
from .job_definitions import JobDefinitionDriver
from .logs import LogGroupDriver
from .roles import RoleDriver
from .rules import RuleDriver
from .schedules import ScheduleDriver, ScheduleGroupDriver
from .state_machine import StateMachineDriver
from .tables import TableDriver
from .topics import TopicDriver, TopicStatementDriver

DRIVERS: dict[str, Driver] = {
    driver.kind: driver
    for driver in (
        CodeDriver(),
        JobDefinitionDriver(),
        RoleDriver(),
        TableDriver(),
        LogGroupDriver(),
        TopicDriver(),
        TopicStatementDriver(),
        FunctionDriver(),
        StateMachineDriver(),
        AliasDriver(),
        RuleDriver(),
        ScheduleGroupDriver(),
        ScheduleDriver(),
    )
}

__all__ = ["DRIVERS", "Driver", "NotOwned"]
