"""engine/layers/conv_checks.py: Conv, ConvTranspose and ConvLocal validate their arguments
with one helper, so they refuse the same things with the same messages, in the same order."""
import pytest

from engine import stax
from engine.layers import conv, pool
from engine.layers.conv_checks import FilterArgs, check_filter_layer

LAYERS = [stax.Conv, stax.ConvTranspose, stax.ConvLocal]
IDS = ["Conv", "ConvTranspose", "ConvLocal"]

#: (arguments, message after "<name>(")
REFUSALS = [
    (dict(out_chan=0, filter_shape=(2,)), r"out_chan=0\): out_chan must be a positive integer$"),
    (dict(out_chan=2.0, filter_shape=(2,)), r"out_chan=2\.0\): out_chan must be an integer$"),
    (dict(out_chan=2, filter_shape=(2, 2, 2)),
     r"filter_shape=\(2, 2, 2\)\): filter_shape must be a tuple of 1 or 2 positive integers, "
     r"one per spatial axis$"),
    (dict(out_chan=2, filter_shape=3), r"filter_shape=3\): filter_shape must be a tuple"),
    (dict(out_chan=2, filter_shape=(True,)), r"filter_shape=\(True,\)\): filter_shape must be"),
    (dict(out_chan=2, filter_shape=(2,), strides=(0,)),
     r"strides=\(0,\)\): strides must be a tuple of 1 or 2 positive integers"),
    (dict(out_chan=2, filter_shape=(2, 2), strides=(1,)),
     r"strides=\(1,\)\): strides must have one entry per axis of filter_shape=\(2, 2\)$"),
    (dict(out_chan=2, filter_shape=(2,), padding=3),
     r"padding=3\): expected one of \['VALID', 'SAME', 'CIRCULAR'\]$"),
    (dict(out_chan=2, filter_shape=(2,), W_std=float("inf")), r"W_std=inf\): W_std must be finite$"),
    (dict(out_chan=2, filter_shape=(2,), b_std=-0.1), r"b_std=-0\.1\): b_std must be non-negative$"),
    (dict(out_chan=2, filter_shape=(2,), parameterization="mup"),
     r"parameterization='mup'\): expected one of \['ntk', 'standard'\]$"),
    # the first bad argument in the order out_chan, filter_shape, strides, padding, affine
    (dict(out_chan=-1, filter_shape=(0,), padding="X"), r"out_chan=-1\)"),
    (dict(out_chan=1, filter_shape=(1,), strides=(1, 1), padding="X", W_std=-1), r"strides="),
    (dict(out_chan=1, filter_shape=(1,), padding="X", W_std=-1), r"padding='X'\)"),
]


@pytest.mark.parametrize("make", LAYERS, ids=IDS)
@pytest.mark.parametrize("kwargs, message", REFUSALS)
def test_the_three_refuse_alike(make, kwargs, message):
    with pytest.raises(ValueError, match=rf"^{make.__name__}\({message}"):
        make(**kwargs)


def test_validated_arguments():
    args = check_filter_layer("ConvLocal", 4, [3, 2], None, "same", 1.5, None, "standard")
    assert args == FilterArgs(4, (3, 2), (1, 1), "SAME", 1.5, None, "standard")
    assert args.fan_in == 6 and not args.ntk_param
    assert check_filter_layer("Conv", 1, (2,), [3], "valid", 1.0, 0.1, "ntk").strides == (3,)


@pytest.mark.parametrize("make", LAYERS, ids=IDS)
def test_lower_case_padding_builds_the_same_layer(make):
    assert make(2, (3,), padding="circular").layer.key == make(2, (3,), padding="CIRCULAR").layer.key


def test_pooling_uses_the_same_window_checks():
    """pool.py imports the window checks through conv.py: they are the helper's."""
    from engine.layers import conv_checks
    for name in ("check_window", "check_strides", "check_padding", "check_window_fits"):
        assert getattr(pool, name) is getattr(conv_checks, name)
        assert getattr(conv, name) is getattr(conv_checks, name)
    with pytest.raises(ValueError, match=r"^SumPool\(padding='X'\): expected one of"):
        stax.SumPool((2,), padding="X")
