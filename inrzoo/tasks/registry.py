"""The task registry (entry-point group ``inrzoo.tasks``)."""

from inrzoo.registry import Registry
from inrzoo.tasks.base import TaskHead

TASKS: Registry[TaskHead] = Registry("task", "inrzoo.tasks", TaskHead, publish=True)
register_task = TASKS.register
create_task = TASKS.create
list_tasks = TASKS.names
