"""Testing support for tinygrad_edu and for students extending it.

- ``gradcheck(fn, *inputs)``: compare a backward pass with central differences.
- ``compare_with_torch(fn, *inputs)``: the same function run here and on torch tensors, values and
  gradients compared (needs PyTorch: ``pip install torch``; imported only when called).
- ``tinygrad_edu.testing.strategies``: hypothesis strategies for shapes, broadcastable shapes,
  (non-contiguous) tensors, matmul operands, and values kept away from kinks, ties and poles.
  It needs hypothesis: ``pip install "tinygrad-edu[test]"``; it is imported only on request.
"""

from .gradcheck import GradcheckError, gradcheck
from .torch_compare import TorchComparison, TorchMismatchError, compare_with_torch

__all__ = ["gradcheck", "GradcheckError", "compare_with_torch", "TorchComparison", "TorchMismatchError"]
