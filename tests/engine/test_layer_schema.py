"""engine.layer_schema: every layer type's settings and input count, as editors need them."""

import pytest

import engine
from engine.layers import Layer, make_layer
from engine.layers.fields import KINDS, REQUIRED, Field


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
            base = {"units": 3, "filters": 2, "kernel_size": 2, "shape": [4], "target_shape": [4]}
            for value, accepted in ((low, True), (high, True), (low - 1, False), (high + 1, False)):
                node = {"id": "n", "type": info.type, **{k: v for k, v in base.items() if k in schema.required},
                        field: [value] if field in ("shape", "target_shape") else value}
                if accepted:
                    make_layer(node)
                else:
                    with pytest.raises(engine.SpecError, match=f"n: {field} must be"):
                        make_layer(node)


def test_every_setting_is_declared_with_a_kind_help_and_a_default_its_own_check_accepts():
    for info in engine.layer_types():
        schema = engine.layer_schema(info.type)
        assert list(schema.fields) == [*schema.required, *schema.defaults]
        for name, declared in schema.fields.items():
            assert declared.kind in KINDS and declared.help, f"{info.type}.{name}"
            if not declared.required:
                assert declared.checked(declared.default, name) == declared.default
            if declared.kind == "choice":
                assert declared.default is REQUIRED or declared.default in declared.choices


def test_the_inspectors_ranges_are_the_ones_the_layers_enforce():
    dense = engine.layer_schema("Dense").fields
    assert (dense["units"].kind, dense["units"].low, dense["units"].high) == ("int", 1, 2**31 - 1)
    assert dense["activation"].choices[0] is None and "relu" in dense["activation"].choices
    rate = engine.layer_schema("Dropout").fields["rate"]
    assert (rate.low, rate.high, rate.high_inclusive) == (0.0, 1.0, False)
    with pytest.raises(engine.SpecError, match=r"d: rate must be a number in \[0.0, 1.0\); received rate=1"):
        make_layer({"id": "d", "type": "Dropout", "rate": 1})
    assert engine.layer_schema("MaxPooling2D").fields["strides"].none_label == "= pool"


class _Echo(Layer):
    type_name = "Echo"
    fields = {
        "repeats": Field("int", REQUIRED, low=2, high=8, help="How many times to echo."),
        "gain": Field("float", 0.5, low=0.0, high=2.0, help="How loud each echo is."),
        "mode": Field("choice", "soft", choices=("soft", "hard"), help="How echoes fade."),
        "enabled": Field("bool", True, help="Whether the echo is on."),
    }


@pytest.fixture
def echo():
    engine.register_layer_type(_Echo, "core", "Repeats its input.")
    yield
    engine.unregister_layer_type("Echo")


def test_a_registered_layer_type_is_checked_built_and_described_from_its_declarations(echo):
    assert engine.layer_types()[-1].type == "Echo"
    schema = engine.layer_schema("Echo")
    assert schema.required == ("repeats",) and schema.defaults == {"gain": 0.5, "mode": "soft", "enabled": True}
    assert schema.limits == {"repeats": (2, 8), "gain": (0.0, 2.0)}
    for bad, message in (({"repeats": 9}, "repeats must be at most 8"),
                         ({"repeats": 1}, "repeats must be an integer >= 2"),
                         ({"repeats": 2, "gain": 2.5}, r"gain must be a number in \[0.0, 2.0\]"),
                         ({"repeats": 2, "mode": "loud"}, "mode must be one of: 'soft', 'hard'; received mode='loud'"),
                         ({"repeats": 2, "enabled": 1}, "enabled must be true or false")):
        with pytest.raises(engine.SpecError, match=f"e: {message}"):
            make_layer({"id": "e", "type": "Echo", **bad})
    layer = make_layer({"id": "e", "type": "Echo", "repeats": 3, "gain": 1})
    assert layer.get_config() == {"id": "e", "type": "Echo", "repeats": 3, "gain": 1.0, "mode": "soft", "enabled": True}
    spec = {"nodes": [{"id": "in", "type": "Input", "shape": [4]}, {"id": "e", "type": "Echo", "repeats": 2}],
            "edges": [["in", "e"]]}
    assert engine.infer_shapes(spec)["e"].output_shape == (4,)
    with pytest.raises(ValueError, match="exists already"):
        engine.register_layer_type(_Echo, "core", "again")


def test_unregistering_takes_the_type_away(echo):
    engine.unregister_layer_type("Echo")
    assert "Echo" not in [info.type for info in engine.layer_types()]
    with pytest.raises(engine.SpecError, match="unknown layer type 'Echo'"):
        engine.layer_schema("Echo")
