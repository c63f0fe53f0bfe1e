"""The exercise stubs, one file per exercise, as `tinygrad-edu exercise start` copies them to a workspace.

They are read as text and copied; a student's copy is loaded from its own path by the checks."""
