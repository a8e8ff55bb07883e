"""neural-tangents' enums for layer arguments that take one of a few names.

``stax.Padding``, ``stax.AttentionMechanism`` and ``stax.PositionalEmbedding`` name the
choices of ``padding`` (Conv, ConvTranspose, ConvLocal, AvgPool, SumPool),
``attention_mechanism`` and ``pos_emb_type`` (GlobalSelfAttention), as in neural-tangents
0.6.5: plain ``enum.Enum`` classes whose values are the names. Every layer accepts a member
or its name as a string (``Padding.SAME`` or ``'SAME'``); ``choice_name`` turns either into
the string once, at construction, so both build the same layer (equal keys, one compiled
kernel function) and the checks and messages stay those of the strings.
"""
from __future__ import annotations

import enum


class Padding(enum.Enum):
    """Padding of filter and pooling layers: VALID (none), SAME (zeros) or CIRCULAR (wrap)."""

    CIRCULAR = "CIRCULAR"
    SAME = "SAME"
    VALID = "VALID"


class AttentionMechanism(enum.Enum):
    """The function GlobalSelfAttention applies to the attention scores."""

    SOFTMAX = "SOFTMAX"
    IDENTITY = "IDENTITY"
    ABS = "ABS"
    RELU = "RELU"


class PositionalEmbedding(enum.Enum):
    """GlobalSelfAttention's positional embeddings: none, added to or concatenated with x."""

    NONE = "NONE"
    SUM = "SUM"
    CONCAT = "CONCAT"


def choice_name(value):
    """The string a choice stands for: an enum member's value, anything else unchanged.

    Any ``enum.Enum`` member with a string value is read by its value, so members of
    neural-tangents' own enums work too; what is not a member is left to the layer's check.
    """
    if isinstance(value, enum.Enum) and isinstance(value.value, str):
        return value.value
    return value
