"""stax.Padding, stax.AttentionMechanism, stax.PositionalEmbedding: neural-tangents' enums.

Each layer taking one of these choices accepts a member or its name; both build the very same
layer (equal keys and hashes: one compiled kernel function), checked for every layer and
member; two cases also compute kernels and outputs (bitwise equal), and different members
build different layers. Members of another enum with the same string values
(neural-tangents' own) are read by value too.
"""
import enum

import jax
import numpy as np
import pytest

from engine import stax

KEY = jax.random.PRNGKey(0)
SIGNAL = np.random.default_rng(0).standard_normal((3, 6, 2))


def test_members_are_neural_tangents_names():
    """The members and values of neural-tangents 0.6.5's enums (its documented API)."""
    assert [m.name for m in stax.Padding] == ["CIRCULAR", "SAME", "VALID"]
    assert [m.name for m in stax.AttentionMechanism] == ["SOFTMAX", "IDENTITY", "ABS", "RELU"]
    assert [m.name for m in stax.PositionalEmbedding] == ["NONE", "SUM", "CONCAT"]
    for cls in (stax.Padding, stax.AttentionMechanism, stax.PositionalEmbedding):
        assert issubclass(cls, enum.Enum) and all(m.value == m.name for m in cls)


def assert_same_layer(by_enum, by_name):
    assert by_enum.layer == by_name.layer and hash(by_enum.layer) == hash(by_name.layer)


def assert_same_network(by_enum, by_name, x=SIGNAL):
    assert_same_layer(by_enum, by_name)
    k1, k2 = by_enum[2](x, x[:2], ("nngp", "ntk")), by_name[2](x, x[:2], ("nngp", "ntk"))
    np.testing.assert_array_equal(k1.nngp, k2.nngp)
    np.testing.assert_array_equal(k1.ntk, k2.ntk)
    _, p = by_enum[0](KEY, x.shape)
    np.testing.assert_array_equal(by_enum[1](p, x), by_name[1](p, x))


FILTERS = {
    "Conv": lambda padding: stax.Conv(4, (3,), padding=padding),
    "ConvTranspose": lambda padding: stax.ConvTranspose(4, (3,), (2,), padding=padding),
    "ConvLocal": lambda padding: stax.ConvLocal(4, (3,), padding=padding),
    "AvgPool": lambda padding: stax.serial(stax.Dense(4), stax.AvgPool((3,), padding=padding)),
    "SumPool": lambda padding: stax.serial(stax.Dense(4), stax.SumPool((3,), padding=padding)),
}


@pytest.mark.parametrize("padding", list(stax.Padding), ids=lambda p: p.name)
@pytest.mark.parametrize("name", sorted(FILTERS))
def test_padding_member_is_its_name(name, padding):
    make = FILTERS[name]
    assert_same_layer(make(padding), make(padding.value))
    assert_same_layer(make(padding), make(padding.value.lower()))
    others = [p for p in stax.Padding if p is not padding]
    assert all(make(padding).layer != make(other).layer for other in others)


def attention(mechanism, embedding):
    return stax.serial(stax.GlobalSelfAttention(4, 3, 3, 2, attention_mechanism=mechanism,
                                                pos_emb_type=embedding, n_chan_pos_emb=2),
                       stax.Flatten(), stax.Dense(1))


@pytest.mark.parametrize("embedding", list(stax.PositionalEmbedding), ids=lambda p: p.name)
@pytest.mark.parametrize("mechanism", list(stax.AttentionMechanism), ids=lambda m: m.name)
def test_attention_members_are_their_names(mechanism, embedding):
    if embedding is stax.PositionalEmbedding.SUM:  # SUM needs the inputs' channel count
        by_enum = stax.GlobalSelfAttention(2, 3, 3, 2, attention_mechanism=mechanism,
                                           pos_emb_type=embedding)
        by_name = stax.GlobalSelfAttention(2, 3, 3, 2, attention_mechanism=mechanism.value,
                                           pos_emb_type=embedding.value)
    else:
        by_enum, by_name = attention(mechanism, embedding), attention(mechanism.value,
                                                                      embedding.value)
    assert_same_layer(by_enum, by_name)
    assert by_enum.layer != attention("IDENTITY" if mechanism.name != "IDENTITY" else "ABS",
                                      embedding).layer


def test_kernels_and_outputs_of_members_and_names_are_equal():
    assert_same_network(stax.serial(FILTERS["Conv"](stax.Padding.CIRCULAR), stax.Relu(),
                                    stax.Flatten(), stax.Dense(1)),
                        stax.serial(FILTERS["Conv"]("CIRCULAR"), stax.Relu(), stax.Flatten(),
                                    stax.Dense(1)))
    assert_same_network(attention(stax.AttentionMechanism.RELU, stax.PositionalEmbedding.CONCAT),
                        attention("RELU", "CONCAT"))


def test_another_enum_with_the_same_values_is_read_by_value():
    """neural-tangents' own members (plain enum.Enum with the names as values) work alike."""
    Padding = enum.Enum("Padding", {"SAME": "SAME", "VALID": "VALID"})
    Mechanism = enum.Enum("AttentionMechanism", {"RELU": "RELU"})
    assert stax.Conv(4, (3,), padding=Padding.SAME).layer == stax.Conv(4, (3,),
                                                                       padding="SAME").layer
    assert (stax.GlobalSelfAttention(4, 3, 3, 2, attention_mechanism=Mechanism.RELU).layer
            == stax.GlobalSelfAttention(4, 3, 3, 2, attention_mechanism="RELU").layer)


def test_a_member_of_the_wrong_enum_is_refused_by_name():
    with pytest.raises(ValueError, match=r"Conv\(padding=<AttentionMechanism.RELU: 'RELU'>\)|"
                                         r"Conv\(padding='RELU'\): expected one of"):
        stax.Conv(4, (3,), padding=stax.AttentionMechanism.RELU)
    with pytest.raises(ValueError, match=r"GlobalSelfAttention\(pos_emb_type='SAME'\): "
                                         r"expected one of \['NONE', 'SUM', 'CONCAT'\]"):
        stax.GlobalSelfAttention(4, 3, 3, 2, pos_emb_type=stax.Padding.SAME)
