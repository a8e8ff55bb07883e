"""app/state/catalog.py and app/state/layer_help.py with the layers added to the JSON spec: each is
offered or left out with a reason, has a help line and tooltips from the engine's docs, its
choices are ones the engine accepts, and the new ones start with a finite kernel on images."""
import numpy as np
import pytest

import engine
from app.state import catalog, layer_help, stack

NEW_IN_EDITOR = ["SumPool", "GlobalSumPool", "ConvTranspose", "ConvLocal", "GlobalSelfAttention",
                 "ImageResize", "Index"]
NOT_IN_EDITOR = ["Dropout", "ExpNormalized", "FanInConcat", "FanInProd", "Aggregate", "Rnn"]
DIGITS = np.random.default_rng(0).standard_normal((2, 8, 8, 1))  # the shape of the 8x8 digits


def test_every_json_layer_is_offered_or_left_out_with_a_reason():
    offered = set(catalog.layer_names())
    for name in engine.SPEC_LAYERS:
        assert (name in offered) != (name in layer_help.HIDDEN), name
    assert set(layer_help.HIDDEN) <= set(engine.SPEC_LAYERS)
    assert set(NEW_IN_EDITOR) <= offered and not set(NOT_IN_EDITOR) & offered
    assert "pattern=(P1, P2)" in catalog.help_text("Aggregate")
    assert catalog.help_text("Dropout").startswith("Dropout: in JSON specs only; the editor "
                                                   "leaves it out: its train mode needs a random")


@pytest.mark.parametrize("name", catalog.layer_names())
def test_every_offered_layer_has_a_help_line(name):
    assert name in layer_help.HELP and len(layer_help.HELP[name]) > 20
    if name != stack.RESIDUAL:
        assert catalog.form_class(name).__doc__ == layer_help.HELP[name]


@pytest.mark.parametrize("name", NEW_IN_EDITOR)
def test_new_layers_start_with_a_finite_kernel_on_images(name):
    spec = [[name, catalog.starting_arguments(name)]]
    if name not in ("GlobalSumPool",):
        spec.append(["GlobalAvgPool", {}])
    spec.append(["Dense", {"out_dim": 1}])
    k = engine.build(stack.unfold(spec)).kernel_fn(DIGITS, None, ("nngp", "ntk"))
    assert np.all(np.isfinite(k.nngp)) and np.all(np.isfinite(k.ntk))
    # a covariance: symmetric, positive diagonal, PSD (one-channel images may give rank 1)
    np.testing.assert_allclose(k.nngp, k.nngp.T, rtol=1e-12)
    assert np.all(np.diag(k.nngp) > 0)
    assert np.linalg.eigvalsh(k.nngp).min() > -1e-12 * np.diag(k.nngp).max()


def test_every_choice_is_one_the_engine_accepts():
    seen = set()
    for name in catalog.layer_names()[:-1]:
        args = catalog.starting_arguments(name)
        for arg in set(args) & set(catalog.CHOICES):
            for choice in catalog.CHOICES[arg]:
                engine.build([[name, {**args, arg: choice}]])
            seen.add(arg)
    assert seen == set(catalog.CHOICES)


def test_tooltips_are_the_engines_argument_docs():
    form = catalog.form_class("ConvTranspose")
    assert form.param.strides.doc.startswith("the upsampling factor per axis (None: 1 "
                                             "everywhere). Numbers separated by commas")
    docs = catalog.argument_docs("GlobalSelfAttention")
    assert docs["W_key_std"] == docs["W_query_std"] == "the scores scale by their product only."
    assert docs["linear_scaling"].startswith("True: scores scaled by 1 / n_chan_key and keys "
                                             "tied to queries (a closed-form kernel")
    resize = catalog.form_class("ImageResize")
    assert "e.g. -1, 4, 4, -1" in resize.param.shape.doc
    assert resize.param.method.objects == ["linear", "nearest"]
    assert catalog.form_class("Index").param.idx.doc.startswith("NumPy index text")


def test_forms_leave_out_what_they_cannot_hold():
    attention = catalog.starting_arguments("GlobalSelfAttention")
    assert not {"pos_emb_decay_fn", "pos_emb_p_norm", "batch_axis", "channel_axis"} & set(attention)
    assert set(catalog.starting_arguments("ImageResize")) == {"shape", "method", "antialias"}
    # a JSON spec's Aggregate or Rnn is shown with a form (the row keeps what it cannot hold)
    assert not {"to_dense", "aggregate_axis"} & set(catalog.form_class("Aggregate").param)
    assert "activation" not in catalog.form_class("Rnn").param
    assert isinstance(catalog.form_class("GlobalSelfAttention").param.n_chan_pos_emb.default,
                      type(None))
    assert type(catalog.form_class("GlobalSelfAttention").param.n_chan_pos_emb).__name__ == \
        "Integer"


def test_form_round_trip_of_text_arguments():
    values = {"shape": "-1, 3, 5, -1", "method": "nearest", "antialias": False}
    args = catalog.spec_arguments("ImageResize", values)
    assert args == {"shape": [-1, 3, 5, -1], "method": "nearest", "antialias": False}
    assert catalog.form_values("ImageResize", args) == values
    assert catalog.spec_arguments("Index", {"idx": "..., 1:7, :"}) == {"idx": "..., 1:7, :"}
    with pytest.raises(ValueError, match=r"shape='-1, a': expected integers separated by commas, "
                                         r"e\.g\. -1, 4, 4, -1"):
        catalog.parse_tuple("shape", "-1, a")
