"""ml.serving: concurrent /classify images batched per model version. Batched rows equal single
predictions, errors reach every caller of the failed batch and the batcher goes on, a lone
image is not held for a full batch, versions never share a batch, and batching can be off."""

import threading

import numpy as np
import pytest
from django.core.files.base import ContentFile
from prometheus_client import REGISTRY

from ml import cnn, runtime, serving
from ml.models import ModelVersion
from ml.synthetic import city_photo_jpeg
from photos.images import load_pixels

CLASSES = ["lisbon", "oslo", "paris", "rome"]


def _rows_by_sum(stacked: np.ndarray) -> np.ndarray:
    """A stand-in model: each image's row is its pixel sum, so a mixed-up row is visible."""
    return stacked.reshape(len(stacked), -1).sum(axis=1, keepdims=True)


def _in_threads(count: int, work) -> list:
    """work(i) in ``count`` threads started together; their results by i."""
    results: list = [None] * count
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def _batch_count() -> float:
    return REGISTRY.get_sample_value("cityvibes_classify_batch_size_count") or 0.0


@pytest.fixture
def recorded_batches():
    """Batch sizes seen by a Batcher's predict, and a predict that records them."""
    sizes: list[int] = []

    def predict(stacked):
        sizes.append(len(stacked))
        return _rows_by_sum(stacked)

    return sizes, predict


def test_a_full_batch_is_predicted_once_without_waiting_out_the_deadline(recorded_batches):
    sizes, predict = recorded_batches
    # Given a batcher that would wait an hour for more images, but takes at most 4
    batcher = serving.Batcher(predict, max_size=4, wait_seconds=3600)
    images = [np.full((2, 2, 3), i, dtype="float32") for i in range(4)]

    # When four images are handed in
    futures = [batcher.submit(image) for image in images]

    # Then one predict of 4 answers each with its own row
    rows = [future.result(timeout=30) for future in futures]
    assert sizes == [4]
    assert [float(row[0]) for row in rows] == [12.0 * i for i in range(4)]
    batcher.close()


def test_a_lone_image_is_answered_after_the_wait_not_held_for_a_full_batch(recorded_batches):
    sizes, predict = recorded_batches
    batcher = serving.Batcher(predict, max_size=8, wait_seconds=0.05)

    row = batcher.submit(np.ones((2, 2, 3))).result(timeout=30)  # would hang if it waited for 8

    assert float(row[0]) == 12.0
    assert sizes == [1]
    batcher.close()


def test_a_failing_predict_reaches_every_caller_and_the_batcher_goes_on():
    calls = []

    def predict(stacked):
        calls.append(len(stacked))
        if len(calls) == 1:
            raise RuntimeError("out of memory")
        return _rows_by_sum(stacked)

    batcher = serving.Batcher(predict, max_size=2, wait_seconds=3600)
    failed = [batcher.submit(np.ones((2, 2, 3))) for _ in range(2)]

    for future in failed:
        with pytest.raises(RuntimeError, match="out of memory"):
            future.result(timeout=30)
    after = [batcher.submit(np.ones((2, 2, 3))) for _ in range(2)]
    assert [float(future.result(timeout=30)[0]) for future in after] == [12.0, 12.0]
    assert batcher.alive
    batcher.close()


def test_images_of_different_shapes_are_predicted_apart(recorded_batches):
    sizes, predict = recorded_batches
    batcher = serving.Batcher(predict, max_size=3, wait_seconds=3600)

    futures = [
        batcher.submit(np.ones((2, 2, 3))),
        batcher.submit(np.ones((4, 4, 3))),
        batcher.submit(np.ones((2, 2, 3))),
    ]

    assert [float(future.result(timeout=30)[0]) for future in futures] == [12.0, 48.0, 12.0]
    assert sorted(sizes) == [1, 2]
    batcher.close()


def test_a_closed_batcher_answers_what_it_holds_and_refuses_more(recorded_batches):
    _, predict = recorded_batches
    batcher = serving.Batcher(predict, max_size=8, wait_seconds=0.05)
    held = batcher.submit(np.ones((2, 2, 3)))

    batcher.close()

    assert float(held.result(timeout=30)[0]) == 12.0
    with pytest.raises(serving.BatcherClosed):
        batcher.submit(np.ones((2, 2, 3)))


def test_batched_rows_of_a_keras_model_equal_single_predictions_from_many_threads():
    model = cnn.make_model(backbone="mobilenetv3small", num_classes=len(CLASSES), image_size=32)
    batcher = serving.Batcher(
        lambda stacked: cnn.predict(model, stacked), max_size=16, wait_seconds=0.2
    )
    images = np.random.default_rng(7).uniform(0, 255, size=(12, 32, 32, 3)).astype("float32")

    rows = _in_threads(12, lambda i: batcher.submit(images[i]).result(timeout=60))

    for image, row in zip(images, rows, strict=True):
        np.testing.assert_allclose(row, cnn.predict(model, image[None])[0], atol=1e-5)
    batcher.close()


def _version(tmp_path, name, seed):
    model = cnn.make_model(backbone="mobilenetv3small", num_classes=len(CLASSES), image_size=32)
    # An untrained head answers ~uniform rows; distinct heads make the two versions tell apart.
    head = model.get_layer("cities")
    rng = np.random.default_rng(seed)
    kernel, bias = head.get_weights()
    head.set_weights([rng.normal(0, 5, kernel.shape), rng.normal(0, 2, bias.shape)])
    model.save(tmp_path / f"{name}.keras")
    version = ModelVersion(
        name=name, kind=ModelVersion.Kind.CITY, classes=CLASSES, backbone="mobilenetv3small",
        image_size=32,
    )  # fmt: skip
    version.artifact.save(
        f"{name}.keras", ContentFile((tmp_path / f"{name}.keras").read_bytes()), save=False
    )
    version.save()
    return version, model


@pytest.fixture
def two_versions(db, tmp_path):
    runtime._load.cache_clear()
    serving.batchers_close()
    yield _version(tmp_path, "cnn-one", 1), _version(tmp_path, "cnn-two", 2)
    serving.batchers_close()


def test_two_versions_served_at_once_never_share_a_batch(settings, two_versions):
    settings.ML_CLASSIFY_BATCH_MAX, settings.ML_CLASSIFY_BATCH_WAIT_MS = 16, 50
    (one, one_model), (two, two_model) = two_versions
    pixels = [load_pixels(city_photo_jpeg(city, 1), 32) for city in CLASSES]
    counted = _batch_count()

    def classify(i):
        version = (one, two)[i % 2]
        return serving.classify_row(serving.classify_submit(version=version, pixels=pixels[i % 4]))

    rows = _in_threads(16, classify)

    for i, row in enumerate(rows):
        model = (one_model, two_model)[i % 2]
        np.testing.assert_allclose(row, cnn.predict(model, pixels[i % 4][None])[0], atol=1e-5)
    assert not np.allclose(rows[0], rows[1], atol=1e-3)  # the two models do differ
    assert 2 <= _batch_count() - counted <= 16  # at least one batch per version


def test_batching_off_predicts_in_the_callers_thread(settings, two_versions):
    settings.ML_CLASSIFY_BATCH_MAX = 1
    (version, model), _ = two_versions
    pixels = load_pixels(city_photo_jpeg("oslo", 2), 32)

    future = serving.classify_submit(version=version, pixels=pixels)

    assert future.done()  # answered before it was returned: no batcher involved
    np.testing.assert_allclose(
        serving.classify_row(future), cnn.predict(model, pixels[None])[0], atol=1e-6
    )
    assert not serving._batchers


def test_a_closed_batcher_is_replaced_on_the_next_request(settings, two_versions):
    settings.ML_CLASSIFY_BATCH_MAX, settings.ML_CLASSIFY_BATCH_WAIT_MS = 4, 1
    (version, model), _ = two_versions
    pixels = load_pixels(city_photo_jpeg("rome", 3), 32)
    serving.classify_row(serving.classify_submit(version=version, pixels=pixels))

    serving.batchers_close()  # as when a version is unloaded
    row = serving.classify_row(serving.classify_submit(version=version, pixels=pixels))

    np.testing.assert_allclose(row, cnn.predict(model, pixels[None])[0], atol=1e-5)


def test_a_version_exported_for_tf_serving_answers_like_the_keras_model(two_versions, tmp_path):
    import tensorflow as tf

    (version, model), _ = two_versions
    pixels = np.stack([load_pixels(city_photo_jpeg(city, 1), 32) for city in CLASSES])

    folder = serving.saved_model_export(version=version, root=tmp_path / "serving")

    assert folder == tmp_path / "serving" / "city" / str(version.pk)
    served = tf.saved_model.load(str(folder)).signatures["serving_default"]
    (rows,) = served(tf.constant(pixels, dtype=tf.float32)).values()
    np.testing.assert_allclose(rows.numpy(), cnn.predict(model, pixels), atol=1e-5)
