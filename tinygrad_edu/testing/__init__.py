"""Testing support for tinygrad_edu and for students extending it.

- ``gradcheck(fn, *inputs)``: compare a backward pass with central differences.
- ``tinygrad_edu.testing.strategies``: hypothesis strategies for shapes, broadcastable shapes,
  (non-contiguous) tensors, matmul operands, and values kept away from kinks, ties and poles.
  It needs hypothesis: ``pip install "tinygrad-edu[test]"``; it is imported only on request.
"""

from .gradcheck import GradcheckError, gradcheck

__all__ = ["gradcheck", "GradcheckError"]
