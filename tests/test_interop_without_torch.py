"""Without PyTorch the bridge says what to install, and the rest of the framework does not notice.

PyTorch is hidden by putting None in ``sys.modules["torch"]`` (then ``import torch`` raises ImportError),
so these run whether or not it is installed.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

import tinygrad_edu as tg
from tinygrad_edu import interop, nn
from tinygrad_edu.testing import compare_with_torch


@pytest.fixture
def no_torch(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setattr(interop, "_EQUIVALENTS", {})


@pytest.mark.parametrize("call, name", [
    (lambda: interop.to_torch(tg.tensor([1.0])), "to_torch"),
    (lambda: interop.from_torch(object()), "from_torch"),
    (lambda: interop.to_torch_module(nn.Linear(2, 2)), "to_torch_module"),
    (lambda: interop.from_torch_module(object()), "from_torch_module"),
    (lambda: interop.torch_state_dict(nn.Linear(2, 2)), "torch_state_dict"),
    (lambda: interop.TorchMLPBlock, "interop.TorchMLPBlock"),
    (lambda: compare_with_torch(lambda x: x * 2, tg.tensor([1.0], requires_grad=True)), "compare_with_torch"),
])
def test_each_entry_point_says_it_needs_pytorch_and_how_to_install_it(no_torch, call, name):
    with pytest.raises(ImportError) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"{name} needs PyTorch, which is not installed")
    assert "pip install torch" in message


def test_importing_the_framework_the_bridge_and_the_testing_helpers_does_not_import_torch():
    code = ("import sys, tinygrad_edu, tinygrad_edu.interop, tinygrad_edu.testing, tinygrad_edu.nn; "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
