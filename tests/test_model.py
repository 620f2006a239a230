import pytest
import torch
from torch import nn

from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.learning.model import (
    MODEL_KINDS,
    ModelConfig,
    MultiModalLSTM,
    TextOnlyMLP,
    VitalOnlyLSTM,
    build_model,
    count_parameters,
)
from multimodal_deterioration.learning.note_indicator import (
    HAS_NOTE,
    HOURS_SINCE_NOTE,
    NOTE_HOURS_SCALE,
    NoteIndicator,
)

# The reference architecture's published parameter count (6 vital features, 384-d text).
REFERENCE_PARAMETER_COUNT = 241_409


def linear_parameters(in_features: int, out_features: int) -> int:
    return in_features * out_features + out_features


def lstm_parameters(n_features: int, hidden: int, layers: int) -> int:
    # Per layer: 4 gates, each with input weights, recurrent weights and two bias vectors.
    total = 0
    for layer in range(layers):
        layer_input = n_features if layer == 0 else hidden
        total += 4 * (hidden * layer_input + hidden * hidden + 2 * hidden)
    return total


def expected_parameter_count(kind: str, n_features: int, text_dim: int = 384) -> int:
    vital = (
        lstm_parameters(n_features, 128, 2) + linear_parameters(128, 64) + linear_parameters(64, 32)
    )
    text = linear_parameters(text_dim, 64) + linear_parameters(64, 32)
    fusion_head = linear_parameters(64, 32) + linear_parameters(32, 16) + linear_parameters(16, 1)
    unimodal_head = linear_parameters(32, 16) + linear_parameters(16, 1)
    return {
        "multimodal": vital + text + fusion_head,
        "vital_only": vital + unimodal_head,
        "text_only": text + unimodal_head,
    }[kind]


def eval_model(kind: str, n_features: int = 6, text_dim: int = 384) -> nn.Module:
    torch.manual_seed(0)
    return build_model(ModelConfig(kind, n_features, text_dim=text_dim)).eval()


def test_multimodal_model_has_the_reference_parameter_count():
    assert count_parameters(eval_model("multimodal")) == REFERENCE_PARAMETER_COUNT
    assert expected_parameter_count("multimodal", 6) == REFERENCE_PARAMETER_COUNT


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("n_features", [6, 10])
def test_parameter_count_follows_the_architecture_formula(kind, n_features):
    model = eval_model(kind, n_features)
    assert count_parameters(model) == expected_parameter_count(kind, n_features)


def test_count_parameters_skips_frozen_parameters():
    model = eval_model("multimodal")
    for parameter in model.text_encoder.parameters():
        parameter.requires_grad_(False)
    text_pathway = linear_parameters(384, 64) + linear_parameters(64, 32)
    assert count_parameters(model) == REFERENCE_PARAMETER_COUNT - text_pathway


def test_build_model_returns_the_class_for_each_kind():
    assert isinstance(eval_model("multimodal"), MultiModalLSTM)
    assert isinstance(eval_model("vital_only"), VitalOnlyLSTM)
    assert isinstance(eval_model("text_only"), TextOnlyMLP)


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize("batch, steps", [(1, 1), (1, 7), (5, 1), (5, 7)])
def test_forward_returns_one_logit_per_sample(kind, batch, steps):
    model = eval_model(kind)
    logits = model(torch.randn(batch, steps, 6), torch.randn(batch, 384))
    assert logits.shape == (batch,)
    assert torch.isfinite(logits).all()


def test_vital_only_model_ignores_text():
    model = eval_model("vital_only")
    vitals = torch.randn(4, 5, 6)
    torch.testing.assert_close(
        model(vitals, torch.randn(4, 384)), model(vitals, torch.randn(4, 384)), rtol=0, atol=0
    )


def test_text_only_model_ignores_vitals():
    model = eval_model("text_only")
    text = torch.randn(4, 384)
    torch.testing.assert_close(
        model(torch.randn(4, 5, 6), text), model(torch.randn(4, 9, 6), text), rtol=0, atol=0
    )


def test_multimodal_output_depends_on_both_inputs():
    model = eval_model("multimodal")
    vitals, text = torch.randn(4, 5, 6), torch.randn(4, 384)
    reference = model(vitals, text)
    assert not torch.allclose(reference, model(vitals + 1.0, text))
    assert not torch.allclose(reference, model(vitals, text + 1.0))


def test_vital_pathway_is_identical_in_vital_only_and_multimodal_models():
    def shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
        return {name: tuple(p.shape) for name, p in module.named_parameters()}

    multimodal, vital_only = eval_model("multimodal"), eval_model("vital_only")
    assert shapes(multimodal.vital_encoder) == shapes(vital_only.vital_encoder)
    assert shapes(multimodal.text_encoder) == shapes(eval_model("text_only").text_encoder)


def test_dropout_default_applies_to_lstm_and_dense_layers():
    model = eval_model("multimodal")
    assert model.vital_encoder.lstm.dropout == 0.3
    assert model.vital_encoder.lstm.num_layers == 2
    rates = [module.p for module in model.modules() if isinstance(module, nn.Dropout)]
    # Two after each encoder's dense layers, two in the fusion head.
    assert rates == [0.3] * 6


def test_state_dict_keys_are_grouped_by_pathway():
    prefixes = {key.split(".")[0] for key in eval_model("multimodal").state_dict()}
    assert prefixes == {"vital_encoder", "text_encoder", "head"}


def test_state_dict_loads_into_a_model_rebuilt_from_its_config():
    config = ModelConfig("multimodal", 6, dropout=0.1)
    torch.manual_seed(1)
    original = build_model(config).eval()
    rebuilt = build_model(ModelConfig.from_dict(config.to_dict())).eval()
    rebuilt.load_state_dict(original.state_dict())
    vitals, text = torch.randn(3, 4, 6), torch.randn(3, 384)
    torch.testing.assert_close(original(vitals, text), rebuilt(vitals, text), rtol=0, atol=0)


def test_model_config_round_trips_through_a_dict():
    config = ModelConfig("vital_only", 10, text_dim=768, lstm_hidden=64, lstm_layers=1, dropout=0.2)
    assert ModelConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["kind"] == "vital_only"


def test_single_layer_lstm_builds_without_inter_layer_dropout():
    model = build_model(ModelConfig("vital_only", 6, lstm_layers=1))
    assert model.vital_encoder.lstm.dropout == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "fusion", "n_vital_features": 6},
        {"kind": "multimodal", "n_vital_features": 0},
        {"kind": "multimodal", "n_vital_features": 6, "dropout": 1.0},
    ],
)
def test_invalid_model_config_raises_pipeline_error(kwargs):
    with pytest.raises(PipelineError):
        ModelConfig(**kwargs)


def test_model_config_from_dict_rejects_unknown_keys():
    with pytest.raises(PipelineError, match="unknown keys"):
        ModelConfig.from_dict({"kind": "multimodal", "n_vital_features": 6, "attention": True})


@pytest.mark.parametrize(
    "indicator",
    [NoteIndicator(), NoteIndicator((HAS_NOTE, HOURS_SINCE_NOTE), NOTE_HOURS_SCALE)],
    ids=["flag", "flag and hours"],
)
def test_the_note_indicator_widens_only_the_first_text_layer(indicator):
    text_dim = 384 + indicator.width
    config = ModelConfig("multimodal", 6, text_dim, note_indicator=indicator)
    model = build_model(config)
    assert config.note_dim == 384
    assert count_parameters(model) == REFERENCE_PARAMETER_COUNT + 64 * indicator.width
    assert count_parameters(model) == expected_parameter_count("multimodal", 6, text_dim)
    assert ModelConfig.from_dict(config.to_dict()) == config
