"""Serving /classify predictions: concurrent requests batched per loaded model version.

A request thread hands its preprocessed image to the batcher of its model version and waits for
its row. One batching thread per version takes the first waiting image, waits up to
``ML_CLASSIFY_BATCH_WAIT_MS`` (or until ``ML_CLASSIFY_BATCH_MAX`` images) for more, runs one
predict on the stacked batch and hands each caller its row; an error goes to every caller of
that batch and the thread goes on. A batcher belongs to one (version, artifact): a batch never
mixes versions, and a retrained artifact or another version gets its own batcher.
``ML_CLASSIFY_BATCH_MAX=1`` turns batching off: the request thread predicts itself, as before.

Why in-process and not a model server: the models the product trains are small (EfficientNet-Lite0
at 128 px), and one predict of a few images costs little more than one of a single image on a
CPU, so batching concurrent requests recovers per-call overhead without a second service. Large
models go to TF Serving instead (docs/DEPLOYMENT.md)."""

import logging
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import numpy as np
from django.conf import settings

from core import metrics

logger = logging.getLogger(__name__)

# A caller gives up on its row after this long: only reached if a predict hangs.
RESULT_TIMEOUT_SECONDS = 60.0
_STOP = object()


class BatcherClosed(RuntimeError):
    """The batcher was closed (replaced or unloaded) before the image was handed to it."""


class Batcher:
    """Micro-batches single-image predictions of one model on one background thread.

    ``predict`` maps a stacked (N, H, W, 3) batch to N output rows. ``submit`` returns a Future
    of one image's row."""

    def __init__(
        self,
        predict: Callable[[np.ndarray], np.ndarray],
        *,
        max_size: int,
        wait_seconds: float,
        name: str = "model",
        warmup_shape: tuple | None = None,
    ):
        if max_size < 1:
            raise ValueError("max_size must be at least 1.")
        if wait_seconds < 0:
            raise ValueError("wait_seconds must be 0 or more.")
        self.predict, self.max_size, self.wait_seconds = predict, max_size, wait_seconds
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()  # submit and close: nothing is queued after the stop mark
        self._closed = False
        self._warmup_shape = warmup_shape
        self._thread = threading.Thread(
            target=self._run, name=f"classify-batcher-{name}", daemon=True
        )
        self._thread.start()

    def submit(self, pixels: np.ndarray) -> Future:
        """The Future of ``pixels``' output row (pixels: one image, H x W x 3)."""
        future: Future = Future()
        with self._lock:
            if self._closed:
                raise BatcherClosed("This model version's batcher was closed.")
            self._queue.put((pixels, future))
        return future

    def close(self) -> None:
        """Stop after the images already handed in are answered."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._queue.put(_STOP)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _collect(self, first) -> tuple[list, bool]:
        """The first item and those that arrive before the deadline, up to max_size; and
        whether the stop mark was met."""
        batch = [first]
        deadline = time.monotonic() + self.wait_seconds
        while len(batch) < self.max_size:
            remaining = deadline - time.monotonic()
            try:
                # Past the deadline, still take what is already waiting (it costs no wait).
                item = (
                    self._queue.get(timeout=remaining)
                    if remaining > 0
                    else self._queue.get_nowait()
                )
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            batch.append(item)
        return batch, False

    def _warm_up(self) -> None:
        # Keras traces its predict function for each new batch size until it has seen two
        # (reduce_retracing): tracing 1 and 2 now, before the first batch, spares the requests
        # of later batch sizes a retrace of a second or more each.
        if self._warmup_shape is None:
            return
        for size in (1, 2):
            try:
                self.predict(np.zeros((size, *self._warmup_shape), dtype="float32"))
            except Exception:  # the requests will meet the same error and get it
                logger.exception("batcher warm-up failed")
                return

    def _run(self) -> None:
        self._warm_up()
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch, stop = self._collect(item)
            try:
                self._answer(batch)
            except Exception as error:  # never leave a caller waiting, never end the thread
                logger.exception("batcher failed")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
            if stop:
                return

    def _answer(self, batch: list) -> None:
        # Images of another shape cannot be stacked together: one predict per shape.
        by_shape: dict[tuple, list] = {}
        for pixels, future in batch:
            by_shape.setdefault(np.shape(pixels), []).append((pixels, future))
        for group in by_shape.values():
            metrics.CLASSIFY_BATCH_SIZE.observe(len(group))
            try:
                rows = self.predict(np.stack([pixels for pixels, _ in group]))
                if len(rows) != len(group):
                    raise RuntimeError(f"The model answered {len(rows)} rows for {len(group)}.")
            except Exception as error:  # every caller gets it; the thread serves the next batch
                logger.warning("batched predict failed: %r", error)
                for _, future in group:
                    future.set_exception(error)
                continue
            for (_, future), row in zip(group, rows, strict=True):
                future.set_result(row)


_batchers: OrderedDict[tuple, Batcher] = OrderedDict()
_batchers_lock = threading.Lock()


def _batcher_for(key: tuple, model, *, max_size: int, wait_seconds: float, name: str) -> Batcher:
    from . import cnn, runtime

    key = (*key, max_size, wait_seconds)
    with _batchers_lock:
        batcher = _batchers.get(key)
        if batcher is not None and batcher.alive:
            _batchers.move_to_end(key)
            return batcher
        batcher = Batcher(
            lambda stacked: cnn.predict(model, stacked, batch_size=max_size),
            max_size=max_size,
            wait_seconds=wait_seconds,
            name=name,
            warmup_shape=tuple(model.input_shape[1:]),
        )
        _batchers[key] = batcher
        # As many batchers as ml.runtime keeps models: the oldest closes when one more starts.
        while len(_batchers) > runtime.MODELS_KEPT:
            _batchers.popitem(last=False)[1].close()
        return batcher


def batchers_close() -> None:
    """Close every batcher (each answers what it holds first); new ones start on demand."""
    with _batchers_lock:
        for batcher in _batchers.values():
            batcher.close()
        _batchers.clear()


def _done(value=None, error: Exception | None = None) -> Future:
    future: Future = Future()
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)
    return future


def classify_submit(*, version, pixels: np.ndarray) -> Future:
    """The Future of ``version``'s output row for one image (``pixels``: H x W x 3, raw RGB),
    batched with other requests' images when ``ML_CLASSIFY_BATCH_MAX`` > 1. Raises ValueError
    for a version without an artifact (ml.runtime.model_for)."""
    from . import cnn, runtime

    model = runtime.model_for(version)
    max_size = settings.ML_CLASSIFY_BATCH_MAX
    if max_size <= 1:  # off: this thread predicts, as before batching existed
        metrics.CLASSIFY_BATCH_SIZE.observe(1)
        try:
            return _done(cnn.predict(model, pixels[None])[0])
        except Exception as error:
            return _done(error=error)
    wait_seconds = max(0.0, settings.ML_CLASSIFY_BATCH_WAIT_MS) / 1000
    key = (version.pk, version.artifact.name)
    for _ in range(2):  # a batcher closed between lookup and submit: the next one takes it
        batcher = _batcher_for(
            key, model, max_size=max_size, wait_seconds=wait_seconds, name=version.name
        )
        try:
            return batcher.submit(pixels)
        except BatcherClosed:
            continue
    return _done(cnn.predict(model, pixels[None])[0])


def classify_row(future: Future) -> np.ndarray:
    """The row of a ``classify_submit`` Future; raises the predict's error."""
    return future.result(timeout=RESULT_TIMEOUT_SECONDS)


def saved_model_export(*, version, root) -> Path:
    """Export ``version``'s model as a TF Serving SavedModel in ``root/<kind>/<pk>/`` (TF
    Serving's layout: one model per kind, its numbered versions = our ModelVersion primary keys)
    and return that folder. The signature ``serving_default`` takes raw 0-255 RGB pixels
    (N x H x W x 3, float32; preprocessing is inside the model) and returns the output rows."""
    from . import runtime

    folder = Path(root) / version.kind / str(version.pk)
    runtime.model_for(version).export(str(folder), format="tf_saved_model", verbose=False)
    return folder
