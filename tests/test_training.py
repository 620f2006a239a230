import copy
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.metrics import roc_auc_score

from multimodal_deterioration.base.devices import resolve_device
from multimodal_deterioration.base.errors import PipelineError
from multimodal_deterioration.learning import epochs
from multimodal_deterioration.learning.epochs import GraphedEpochs, make_optimizer
from multimodal_deterioration.learning.model import ModelConfig, build_model
from multimodal_deterioration.learning.training import (
    EarlyStopping,
    TrainingConfig,
    VitalStandardizer,
    positive_class_weight,
    predict_proba,
    seed_everything,
    train_model,
)

CPU = torch.device("cpu")
STEPS = 5
FEATURES = 6
TEXT_DIM = 384
# 65 = two full batches of 32 plus a single-sample final batch, which must train fine.
TRAIN_SAMPLES = 65
# The training seed of tests/data/training_reference_history.json, and of any test that does not
# compare seeds.
SEED = 42


def make_split(n, seed, text_shift=0.0, positive_every=2, flip_labels=False):
    """Random vitals and embeddings; ``text_shift`` moves 16 text dimensions apart by class."""
    rng = np.random.default_rng(seed)
    y = (np.arange(n) % positive_every == 0).astype(np.int64)
    rng.shuffle(y)
    X_vital = rng.normal(size=(n, STEPS, FEATURES)).astype(np.float32)
    X_text = rng.normal(size=(n, TEXT_DIM)).astype(np.float32)
    X_text[:, :16] += text_shift * (2 * y[:, None] - 1)
    return X_vital, X_text, (1 - y) if flip_labels else y


def fresh_model(seed=0, kind="multimodal"):
    seed_everything(seed)
    return build_model(ModelConfig(kind, FEATURES))


def train_quietly(model, train, val, seed=SEED, **config):
    config = TrainingConfig(**config)
    return train_model(model, train, val, config, CPU, seed=seed, log=None, progress=False)


@pytest.fixture(scope="module")
def separable():
    return make_split(256, seed=0, text_shift=1.0), make_split(64, seed=1, text_shift=1.0)


@pytest.fixture(scope="module")
def small():
    return make_split(TRAIN_SAMPLES, seed=2, text_shift=0.5), make_split(40, seed=3, text_shift=0.5)


@pytest.fixture(scope="module")
def anti_correlated():
    """Validation labels are the opposite of what training teaches, so val AUROC falls."""
    train = make_split(TRAIN_SAMPLES, seed=4, text_shift=1.0)
    return train, make_split(40, seed=5, text_shift=1.0, flip_labels=True)


# --- early stopping -------------------------------------------------------------------------


def run_stopper(scores, patience, min_delta=0.0):
    stopper = EarlyStopping(patience, min_delta=min_delta)
    for epoch, score in enumerate(scores, start=1):
        if stopper.update(epoch, score):
            return stopper, epoch
    return stopper, None


def test_early_stopping_keeps_best_epoch_and_stops_after_patience():
    stopper, stopped_at = run_stopper([0.6, 0.7, 0.65, 0.72, 0.71, 0.70, 0.69], patience=3)
    assert (stopper.best_epoch, stopper.best_score, stopped_at) == (4, 0.72, 7)


def test_early_stopping_does_not_stop_while_improving():
    stopper, stopped_at = run_stopper([0.5, 0.6, 0.7, 0.8], patience=1)
    assert (stopper.best_epoch, stopped_at) == (4, None)


def test_early_stopping_ties_are_not_improvements():
    stopper, stopped_at = run_stopper([0.7, 0.7, 0.7], patience=2)
    assert (stopper.best_epoch, stopped_at) == (1, 3)


def test_early_stopping_requires_more_than_min_delta():
    stopper, _ = run_stopper([0.70, 0.705, 0.72], patience=5, min_delta=0.01)
    assert (stopper.best_epoch, stopper.best_score) == (3, 0.72)


def test_early_stopping_nan_never_improves_and_counts_toward_patience():
    stopper, stopped_at = run_stopper([0.6, math.nan, math.nan], patience=2)
    assert (stopper.best_epoch, stopper.best_score, stopped_at) == (1, 0.6, 3)
    stopper, _ = run_stopper([math.nan, 0.55], patience=3)
    assert (stopper.best_epoch, stopper.best_score) == (2, 0.55)


def test_early_stopping_rejects_zero_patience():
    with pytest.raises(PipelineError):
        EarlyStopping(0)


# --- training -------------------------------------------------------------------------------


def test_training_learns_a_separable_problem(separable):
    train, val = separable
    model = fresh_model(seed=0)
    untrained_auroc = roc_auc_score(val[2], predict_proba(model, val[0], val[1], CPU))
    result = train_quietly(model, train, val, epochs=4, seed=0)
    assert untrained_auroc < 0.75
    assert result.best_val_auroc > 0.9
    assert result.history[-1].train_loss < result.history[0].train_loss


def test_training_reports_the_best_epoch_of_its_history(small):
    train, val = small
    result = train_quietly(fresh_model(), train, val, epochs=3)
    aurocs = [record.val_auroc for record in result.history]
    assert [record.epoch for record in result.history] == [1, 2, 3]
    assert result.best_val_auroc == max(aurocs)
    assert result.best_epoch == aurocs.index(max(aurocs)) + 1
    assert not result.stopped_early


def test_model_holds_best_weights_not_last_weights_after_training(anti_correlated):
    train, val = anti_correlated
    model = fresh_model()
    result = train_quietly(model, train, val, epochs=4)
    assert result.best_epoch < len(result.history), "scenario must make a later epoch worse"
    assert result.history[-1].val_auroc < result.best_val_auroc

    restored_auroc = roc_auc_score(val[2], predict_proba(model, val[0], val[1], CPU))
    assert restored_auroc == result.best_val_auroc
    for key, value in model.state_dict().items():
        assert result.best_state_dict[key].device.type == "cpu"
        assert torch.equal(result.best_state_dict[key], value)


def test_training_stops_early_when_validation_stops_improving(anti_correlated):
    train, val = anti_correlated
    result = train_quietly(fresh_model(), train, val, epochs=10, patience=1)
    assert result.stopped_early
    assert len(result.history) == result.best_epoch + 1


def test_a_stop_at_the_last_allowed_epoch_counts_as_stopping_early(anti_correlated):
    train, val = anti_correlated
    unlimited = train_quietly(fresh_model(), train, val, epochs=10, patience=1)
    assert unlimited.stopped_early
    stop_epoch = len(unlimited.history)
    result = train_quietly(fresh_model(), train, val, epochs=stop_epoch, patience=1)
    assert len(result.history) == stop_epoch
    assert result.stopped_early


def test_same_seed_gives_identical_results_on_cpu(small):
    train, val = small
    results, predictions = [], []
    for _ in range(2):
        model = fresh_model(seed=7)
        results.append(train_quietly(model, train, val, epochs=2, seed=7))
        predictions.append(predict_proba(model, val[0], val[1], CPU))
    assert results[0].history == results[1].history
    np.testing.assert_array_equal(predictions[0], predictions[1])


def test_different_training_seed_gives_different_results(small):
    train, val = small
    initial = fresh_model(seed=7)
    first = train_quietly(copy.deepcopy(initial), train, val, epochs=2, seed=7)
    second = train_quietly(copy.deepcopy(initial), train, val, epochs=2, seed=8)
    assert first.history != second.history


def test_loss_uses_negatives_over_positives_as_pos_weight(monkeypatch):
    # One positive in four: pos_weight must be 3.
    train = make_split(TRAIN_SAMPLES, seed=6, text_shift=0.5, positive_every=4)
    val = make_split(40, seed=7, text_shift=0.5, positive_every=4)
    expected_weight = np.sum(train[2] == 0) / np.sum(train[2] == 1)
    assert positive_class_weight(train[2]) == pytest.approx(expected_weight)

    seen_weights = []
    original_loss = F.binary_cross_entropy_with_logits

    def recording_loss(logits, labels, *args, **kwargs):
        seen_weights.append(kwargs["pos_weight"].item())
        return original_loss(logits, labels, *args, **kwargs)

    monkeypatch.setattr(F, "binary_cross_entropy_with_logits", recording_loss)
    model = fresh_model()
    result = train_quietly(model, train, val, epochs=2)
    monkeypatch.undo()

    assert seen_weights and np.allclose(seen_weights, expected_weight)
    # Independent check: the best epoch's validation loss is the weighted BCE of the restored
    # model's probabilities, and differs from the unweighted loss.
    p = predict_proba(model, val[0], val[1], CPU)
    y = val[2]
    per_sample = -(expected_weight * y * np.log(p) + (1 - y) * np.log(1 - p))
    unweighted = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    best_val_loss = result.history[result.best_epoch - 1].val_loss
    assert best_val_loss == pytest.approx(per_sample.mean(), rel=1e-5)
    assert best_val_loss != pytest.approx(unweighted.mean(), rel=1e-2)


def test_positive_class_weight_without_positives_raises():
    with pytest.raises(PipelineError, match="no positive"):
        positive_class_weight(np.zeros(10))


def test_one_class_validation_split_raises_before_training(small):
    train, val = small
    one_class_val = (val[0], val[1], np.zeros_like(val[2]))
    with pytest.raises(PipelineError, match="validation split .*both classes"):
        train_quietly(fresh_model(), train, one_class_val, epochs=1)


def test_mismatched_split_lengths_raise(small):
    train, val = small
    with pytest.raises(PipelineError, match="training split"):
        train_quietly(fresh_model(), (train[0], train[1][:-1], train[2]), val, epochs=1)


def test_training_logs_one_line_per_epoch_plus_a_summary(small):
    train, val = small
    lines = []
    train_model(
        fresh_model(),
        train,
        val,
        TrainingConfig(epochs=2),
        CPU,
        seed=SEED,
        description="fused",
        log=lines.append,
        progress=False,
    )
    assert len(lines) == 3
    assert lines[0].startswith("fused epoch   1/2") and "val AUROC" in lines[0]
    assert "restored epoch" in lines[-1]


def test_printed_to_a_log_file_training_writes_plain_lines_and_no_bar(small, capsys):
    """Under pytest, as in a batch job, stdout and stderr are not a terminal."""
    train, val = small
    config = TrainingConfig(epochs=2)
    train_model(fresh_model(), train, val, config, CPU, seed=SEED, description="fused")
    out, err = capsys.readouterr()
    assert err == "" and "\r" not in out
    lines = out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("fused epoch   1/2  train loss")
    assert lines[1].startswith("fused epoch   2/2  train loss")
    assert lines[2].startswith("fused: ran all 2 epochs; restored epoch")


def test_the_seed_is_given_to_each_training_not_a_training_setting(small):
    """The experiment's seeds are the one seed setting; train_model takes a training's seed."""
    assert "seed" not in {field.name for field in dataclasses.fields(TrainingConfig)}
    with pytest.raises(TypeError, match="seed"):
        train_model(fresh_model(), *small, TrainingConfig(epochs=1), CPU, log=None)


def test_keyboard_interrupt_propagates(small):
    train, val = small

    def interrupt(_line):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_model(
            fresh_model(),
            train,
            val,
            TrainingConfig(epochs=2),
            CPU,
            seed=SEED,
            log=interrupt,
            progress=False,
        )


@pytest.mark.parametrize("kind", ["vital_only", "text_only"])
def test_baselines_train_through_the_same_routine(small, kind):
    train, val = small
    result = train_quietly(fresh_model(kind=kind), train, val, epochs=1)
    assert len(result.history) == 1 and 0.0 <= result.best_val_auroc <= 1.0


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_training_runs_on_cuda(small):
    train, val = small
    model = fresh_model()
    cuda = torch.device("cuda")
    config = TrainingConfig(epochs=2)
    result = train_model(model, train, val, config, cuda, seed=SEED, log=None, progress=False)
    assert all(t.device.type == "cpu" for t in result.best_state_dict.values())
    probabilities = predict_proba(model, val[0], val[1], torch.device("cuda"))
    assert roc_auc_score(val[2], probabilities) == pytest.approx(result.best_val_auroc)


def one_epoch_both_ways(train, monkeypatch):
    """One epoch through the eager loop and one through ``GraphedEpochs`` without capture, from
    the same weights, batch order and dropout draws; each counts its ``training_step`` calls."""
    config = TrainingConfig()
    split = (train[0], train[1], train[2].astype(np.float32))
    pos_weight = torch.tensor([positive_class_weight(train[2])], dtype=torch.float32)
    real_step, outcomes = epochs.training_step, []
    for graphed in (False, True):
        calls = []

        def counted_step(*args, _calls=calls, **kwargs):
            _calls.append(args[2].shape[0])
            return real_step(*args, **kwargs)

        monkeypatch.setattr(epochs, "training_step", counted_step)
        model = fresh_model()
        optimizer = make_optimizer(model, config, CPU)
        seed_everything(7)
        order = torch.Generator().manual_seed(3)
        if graphed:
            graphed_epochs = GraphedEpochs(
                model, optimizer, split, pos_weight, config, CPU, capture=False
            )
            loss = graphed_epochs.run_epoch(order)
        else:
            loss = epochs.train_one_epoch(model, optimizer, split, pos_weight, config, order, CPU)
        outcomes.append((loss, calls, model.state_dict()))
    return outcomes


def test_graphed_and_eager_epochs_share_one_step_function_and_agree_bit_for_bit_on_cpu(
    small, monkeypatch
):
    (eager_loss, eager_calls, eager_state), (graph_loss, graph_calls, graph_state) = (
        one_epoch_both_ways(small[0], monkeypatch)
    )
    assert eager_calls == graph_calls == [32, 32, 1]  # two full batches, then the partial one
    assert graph_loss == eager_loss
    for name, value in eager_state.items():
        assert torch.equal(graph_state[name], value), name


def test_cpu_training_uses_plain_adam_and_never_graphs(small):
    model = fresh_model()
    optimizer = make_optimizer(model, TrainingConfig(), CPU)
    assert type(optimizer) is torch.optim.Adam
    assert not optimizer.defaults["capturable"] and not optimizer.defaults["fused"]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_graph_training_matches_eager_cuda_training(separable):
    train, val = separable
    results = {}
    for graph in (True, False):
        model = fresh_model()
        config = TrainingConfig(epochs=3, cuda_graph=graph)
        results[graph] = train_model(
            model, train, val, config, torch.device("cuda"), seed=SEED, log=None, progress=False
        )
    for graphed, eager in zip(results[True].history, results[False].history):
        assert graphed.train_loss == pytest.approx(eager.train_loss, rel=1e-3)
        assert graphed.val_auroc == pytest.approx(eager.val_auroc, abs=0.01)


def test_cpu_training_reproduces_the_stored_history_of_the_reference_loop(small):
    """tests/data/training_reference_history.json holds (train loss, val loss, val AUROC) per
    epoch from the training loop as it was before the CUDA-graph path was added; on this
    project's machine the match was exact. The tolerance only allows for another CPU's float
    kernels, not for any change in batches, order, dropout draws or optimiser."""
    reference = json.loads(
        (Path(__file__).parent / "data" / "training_reference_history.json").read_text()
    )
    train, val = small
    result = train_quietly(fresh_model(), train, val, epochs=3)
    observed = [[h.train_loss, h.val_loss, h.val_auroc] for h in result.history]
    np.testing.assert_allclose(observed, reference, rtol=1e-6, atol=0)


def test_invalid_training_config_raises():
    with pytest.raises(PipelineError, match="epochs"):
        TrainingConfig(epochs=0)
    with pytest.raises(PipelineError, match="learning_rate"):
        TrainingConfig(learning_rate=0.0)


# --- standardisation ------------------------------------------------------------------------


def test_standardizer_uses_training_statistics_per_feature():
    rng = np.random.default_rng(0)
    X_train = rng.normal(
        loc=[80, 120, 16, 97, 37, 0.5], scale=[10, 15, 3, 2, 0.5, 0.1], size=(30, 4, 6)
    )
    X_val = rng.normal(loc=100, scale=50, size=(10, 4, 6))
    standardizer = VitalStandardizer.fit(X_train)

    flat = X_train.reshape(-1, 6)
    np.testing.assert_allclose(standardizer.mean, flat.mean(axis=0))
    np.testing.assert_allclose(standardizer.std, flat.std(axis=0, ddof=0))
    transformed_val = standardizer.transform(X_val)
    assert transformed_val.dtype == np.float32
    np.testing.assert_allclose(
        transformed_val, (X_val - flat.mean(axis=0)) / flat.std(axis=0), rtol=1e-5, atol=1e-5
    )
    transformed_train = standardizer.transform(X_train).reshape(-1, 6)
    np.testing.assert_allclose(transformed_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(transformed_train.std(axis=0), 1.0, atol=1e-5)


def test_standardizer_maps_constant_features_to_zero():
    X = np.random.default_rng(1).normal(size=(20, 3, 3))
    X[:, :, 1] = 98.6
    X[:, :, 2] = 0.0
    standardizer = VitalStandardizer.fit(X)
    assert standardizer.std[1] == 1.0 and standardizer.std[2] == 1.0
    transformed = standardizer.transform(X)
    assert np.isfinite(transformed).all()
    np.testing.assert_allclose(transformed[:, :, 1:], 0.0, atol=1e-6)


def test_standardizer_round_trips_through_json():
    standardizer = VitalStandardizer.fit(np.random.default_rng(2).normal(size=(8, 3, 4)))
    restored = VitalStandardizer.from_dict(json.loads(json.dumps(standardizer.to_dict())))
    np.testing.assert_array_equal(restored.mean, standardizer.mean)
    np.testing.assert_array_equal(restored.std, standardizer.std)


def test_standardizer_rejects_wrong_feature_count_and_non_finite_values():
    standardizer = VitalStandardizer.fit(np.ones((4, 2, 3)))
    with pytest.raises(PipelineError, match="3 features"):
        standardizer.transform(np.ones((4, 2, 5)))
    X = np.ones((4, 2, 3))
    X[0, 0, 0] = np.nan
    with pytest.raises(PipelineError, match="NaN"):
        VitalStandardizer.fit(X)


# --- devices --------------------------------------------------------------------------------


def test_resolve_device_auto_follows_cuda_availability():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_resolve_device_cuda_without_cuda_explains_the_fix():
    with pytest.raises(PipelineError, match="--device (cpu or auto|auto or cpu)"):
        resolve_device("cuda")


def test_resolve_device_rejects_unknown_names():
    with pytest.raises(PipelineError, match="unknown device"):
        resolve_device("tpu")
