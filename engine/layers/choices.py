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
    """Padding of filter and pooling layers (``padding``), a member or its name.

    VALID: no padding; windows stay inside the input ((n - f) // s + 1 outputs per axis).
    SAME: zero padding by JAX's SAME rule (ceil(n / s) outputs per axis).
    CIRCULAR: periodic padding, the input wrapped around (ceil(n / s) outputs per axis).
    """

    CIRCULAR = "CIRCULAR"
    SAME = "SAME"
    VALID = "VALID"


class AttentionMechanism(enum.Enum):
    """The function phi GlobalSelfAttention applies to the attention scores s.

    SOFTMAX: softmax of s over the keys (positions p').
    IDENTITY: s itself (the only one with a kernel when linear_scaling=False).
    ABS: |s|, elementwise.
    RELU: max(s, 0), elementwise.
    """

    SOFTMAX = "SOFTMAX"
    IDENTITY = "IDENTITY"
    ABS = "ABS"
    RELU = "RELU"


class PositionalEmbedding(enum.Enum):
    """GlobalSelfAttention's positional embeddings e (``pos_emb_type``).

    NONE: no embedding.
    SUM: keys and queries see x + e (e has the inputs' channels).
    CONCAT: keys and queries see [x, e], e appended as extra channels.
    With ``val_pos_emb`` the values see the same; e is a random parameter
    (engine.layers.positional).
    """

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
