"""The framework's own exceptions."""


class ShapeError(ValueError):
    """An op was given shapes it cannot combine. The message names the op and the shapes,
    e.g. ``matmul: (2, 3) @ (4, 5): inner sizes 3 and 4 differ``."""
