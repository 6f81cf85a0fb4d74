"""Task heads that use a fitted representation; built-ins arrive with their issues."""

from inrzoo.registry import Registry
from inrzoo.tasks.base import TaskHead

TASKS: Registry[TaskHead] = Registry("task", "inrzoo.tasks", TaskHead)
register_task = TASKS.register
create_task = TASKS.create
list_tasks = TASKS.names

__all__ = ["TASKS", "TaskHead", "create_task", "list_tasks", "register_task"]
