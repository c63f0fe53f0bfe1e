"""The course: exercises that turn the lessons into code a student writes and the framework checks."""
from .checking import CheckFailed, Exercise, NotImplementedYet, Step
from .course import EXERCISES

__all__ = ["EXERCISES", "Exercise", "Step", "CheckFailed", "NotImplementedYet"]
