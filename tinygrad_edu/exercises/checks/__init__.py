"""One module per exercise: its `Exercise` (title, lesson, task), its checks, its diagnoses and its trace."""
