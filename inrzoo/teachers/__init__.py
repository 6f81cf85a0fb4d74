"""Alignment teachers: frozen models whose per-frame features the latents are aligned to."""

from inrzoo.teachers.base import Teacher
from inrzoo.teachers.feature_file import FeatureFileTeacher
from inrzoo.teachers.open_clip_teacher import OpenClipTeacher
from inrzoo.teachers.preprocess import ImagePreprocess
from inrzoo.teachers.registry import TEACHERS, create_teacher, list_teachers, register_teacher
from inrzoo.teachers.timm_teacher import TimmTeacher

__all__ = [
    "TEACHERS",
    "FeatureFileTeacher",
    "ImagePreprocess",
    "OpenClipTeacher",
    "Teacher",
    "TimmTeacher",
    "create_teacher",
    "list_teachers",
    "register_teacher",
]
