"""Neural-network building blocks (``import tinygrad_edu.nn as nn``), named as in ``torch.nn``.

    Module, Parameter                     bookkeeping: parameters, names, state dicts, train/eval
    Linear, ReLU, GELU, Tanh, Identity    the basic layers
    Sequential, Residual                  composition
    LayerNorm, Embedding                  normalisation and lookup tables
    MLPBlock                              the lecture's block: x + down(act(up(x)))
    SelfAttention, TransformerBlock       causal multi-head attention, the pre-norm block
    MSELoss, CrossEntropyLoss             losses as modules
    init                                  seedable initialisers
"""
from . import init
from .attention import SelfAttention, TransformerBlock, causal_mask
from .layers import (GELU, Embedding, Identity, LayerNorm, Linear, MLPBlock, ReLU, Residual, Sequential, Tanh,
                     get_activation)
from .losses import CrossEntropyLoss, MSELoss
from .module import Module, Parameter, StateDictError

__all__ = ["Module", "Parameter", "StateDictError", "Linear", "ReLU", "GELU", "Tanh", "Identity", "Sequential",
           "Residual", "LayerNorm", "Embedding", "MLPBlock", "SelfAttention", "TransformerBlock", "causal_mask",
           "MSELoss", "CrossEntropyLoss", "get_activation", "init"]
