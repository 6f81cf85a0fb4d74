"""The teacher registry (entry-point group ``inrzoo.teachers``)."""

from inrzoo.registry import Registry
from inrzoo.teachers.base import Teacher

TEACHERS: Registry[Teacher] = Registry("teacher", "inrzoo.teachers", Teacher, publish=True)
register_teacher = TEACHERS.register
create_teacher = TEACHERS.create
list_teachers = TEACHERS.names
