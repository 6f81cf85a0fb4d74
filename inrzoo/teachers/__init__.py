"""Alignment teachers (frozen vision models); built-ins arrive with the semantic-latents work."""

from inrzoo.registry import Registry
from inrzoo.teachers.base import Teacher

TEACHERS: Registry[Teacher] = Registry("teacher", "inrzoo.teachers", Teacher)
register_teacher = TEACHERS.register
create_teacher = TEACHERS.create
list_teachers = TEACHERS.names

__all__ = ["TEACHERS", "Teacher", "create_teacher", "list_teachers", "register_teacher"]
