"""Atomic files and folders (kept here for the readers and writers of this package; the
implementation is the leaf module :mod:`reallocate.atomic`, which reports and the CLI use too)."""

from ..atomic import atomic_file, atomic_folder

__all__ = ["atomic_file", "atomic_folder"]
