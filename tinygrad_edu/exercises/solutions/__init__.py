"""Reference solutions, one file per exercise: `tinygrad-edu exercise solutions DIR` writes them out, and
the course's tests run every check on them to show that each exercise can be solved."""
