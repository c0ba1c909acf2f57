"""engine.layer_schema: every layer type's settings and input count, as editors need them."""

import pytest

import engine
from engine.layers import make_layer


def test_every_catalog_type_has_a_schema_whose_required_fields_build():
    for info in engine.layer_types():
        schema = engine.layer_schema(info.type)
        assert schema.type == info.type
        assert not set(schema.required) & set(schema.defaults)
        assert schema.min_inputs >= 0
        assert schema.max_inputs is None or schema.max_inputs >= schema.min_inputs


def test_schemas_match_the_documented_fields():
    conv = engine.layer_schema("Conv2D")
    assert conv.required == ("filters", "kernel_size")
    assert conv.defaults["padding"] == "valid" and conv.defaults["strides"] == 1
    assert (conv.min_inputs, conv.max_inputs) == (1, 1)
    assert engine.layer_schema("Input").max_inputs == 0
    assert engine.layer_schema("Add").max_inputs is None
    assert engine.layer_schema("MaxPooling2D").defaults == {"pool_size": 2, "strides": None, "padding": "valid"}


def test_defaults_are_copies():
    engine.layer_schema("Dense").defaults["use_bias"] = False
    assert engine.layer_schema("Dense").defaults["use_bias"] is True


def test_unknown_type_is_a_spec_error_listing_the_types():
    with pytest.raises(engine.SpecError, match="unknown layer type 'Conv3D'; expected one of: Input, Dense"):
        engine.layer_schema("Conv3D")


def test_schemas_give_the_range_of_each_numeric_field_and_the_layers_hold_to_it():
    assert engine.layer_schema("Dense").limits == {"units": (1, 2**31 - 1)}
    assert engine.layer_schema("Conv2D").limits["padding"] == (0, 2**31 - 1)
    assert engine.layer_schema("Dropout").limits == {"rate": (0.0, 1.0)}
    for info in engine.layer_types():
        schema = engine.layer_schema(info.type)
        for field, (low, high) in schema.limits.items():
            if not isinstance(high, int):
                continue
            base = {"units": 3, "filters": 2, "kernel_size": 2, "shape": [4]}
            for value, accepted in ((low, True), (high, True), (low - 1, False), (high + 1, False)):
                node = {"id": "n", "type": info.type, **{k: v for k, v in base.items() if k in schema.required},
                        field: [value] if field == "shape" else value}
                if accepted:
                    make_layer(node)
                else:
                    with pytest.raises(engine.SpecError, match=f"n: {field} must be"):
                        make_layer(node)
