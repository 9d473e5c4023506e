"""EfficientNet-Lite0 with offline ImageNet weights: the allow-list loader refuses what is not a
plain state dict, the Keras graph computes what an independent NumPy forward pass computes from
the raw PyTorch tensors, and real photos shipped by packages land in sensible ImageNet classes."""

import collections
import io
import os
import pickle
import struct
import sys
import types

import numpy as np
import pytest
from PIL import Image

from ml import efficientnet_lite, imagenet, torch_pickle


@pytest.fixture(scope="module")
def tensors():
    return efficientnet_lite.state_dict()


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    cache = tmp_path_factory.mktemp("keras-cache")
    return efficientnet_lite.imagenet_classifier(image_size=224, cache_dir=cache)


# ---- the loader -------------------------------------------------------------------------------


def _legacy_file(path, payload_pickle: bytes) -> None:
    """A file with the legacy layout's three header pickles, then ``payload_pickle``."""
    with open(path, "wb") as handle:
        pickle.dump(torch_pickle.LEGACY_MAGIC_NUMBER, handle, protocol=2)
        pickle.dump(torch_pickle.LEGACY_PROTOCOL_VERSION, handle, protocol=2)
        pickle.dump({"little_endian": True}, handle, protocol=2)
        handle.write(payload_pickle)
        pickle.dump([], handle, protocol=2)


class _RunsCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_the_package_file_is_the_pinned_one_and_holds_the_whole_network(tensors):
    path = efficientnet_lite.package_weights_path()
    assert torch_pickle.sha256_of(path) == efficientnet_lite.WEIGHTS_SHA256
    assert len(tensors) == 296
    parameters = sum(t.size for name, t in tensors.items() if "num_batches" not in name)
    assert 4_600_000 < parameters < 4_800_000
    assert tensors["_fc.weight"].shape == (1000, 1280)
    assert tensors["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert tensors["_conv_stem.weight"].flags.c_contiguous  # stored channels-last, re-laid out


def test_the_loader_refuses_a_pickle_that_names_any_other_global(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    _legacy_file(path, pickle.dumps(_RunsCommand(marker), protocol=2))
    with pytest.raises(torch_pickle.UnsafePickleError, match="Refused global"):
        torch_pickle.load_state_dict(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    "module, name",
    [("builtins", "eval"), ("torch._utils", "_rebuild_parameter"), ("torch", "HalfStorage")],
)
def test_the_loader_refuses_globals_that_look_harmless_too(tmp_path, module, name):
    path = tmp_path / "other.pth"
    payload = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b")R."
    _legacy_file(path, payload)
    with pytest.raises(torch_pickle.UnsafePickleError, match=f"{module}.{name}"):
        torch_pickle.load_state_dict(path)


def test_the_loader_refuses_a_changed_or_truncated_file(tmp_path):
    original = efficientnet_lite.package_weights_path().read_bytes()
    changed = tmp_path / "changed.pth"
    changed.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(ValueError, match="is not the pinned"):
        torch_pickle.load_state_dict(changed, expected_sha256=efficientnet_lite.WEIGHTS_SHA256)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(original[:-100])
    with pytest.raises(torch_pickle.UnsafePickleError, match="truncated"):
        torch_pickle.load_state_dict(truncated)


def _fake_torch(monkeypatch):
    """Modules named torch and torch._utils, so that the standard pickler writes the globals
    a real torch.save writes (only for writing test files; the loader never imports them)."""
    torch, utils = types.ModuleType("torch"), types.ModuleType("torch._utils")
    for module, name, value in [
        (torch, "FloatStorage", type("FloatStorage", (), {})),
        (torch, "LongStorage", type("LongStorage", (), {})),
        (utils, "_rebuild_tensor_v2", lambda *args: None),
    ]:
        value.__module__, value.__qualname__ = module.__name__, name
        setattr(module, name, value)
    monkeypatch.setitem(sys.modules, "torch", torch)
    monkeypatch.setitem(sys.modules, "torch._utils", utils)
    return torch, utils


def test_the_loader_reads_a_small_state_dict_written_like_torch_does(tmp_path, monkeypatch):
    """A (2, 3) float tensor stored transposed (strides 1, 2, as the package's channels-last
    weights are) and an int64 scalar come back with their values."""
    torch, utils = _fake_torch(monkeypatch)

    class Storage:
        def __init__(self, key, kind, values):
            self.key, self.kind, self.values = key, kind, values

    class Tensor:
        def __init__(self, storage, shape, strides):
            self.args = (storage, 0, shape, strides, False, collections.OrderedDict())

        def __reduce__(self):
            return (utils._rebuild_tensor_v2, self.args)

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", obj.kind, obj.key, "cpu", len(obj.values), None)
            return None

    weights = Storage("0", torch.FloatStorage, np.arange(6, dtype="<f4"))
    steps = Storage("1", torch.LongStorage, np.array([42], dtype="<i8"))
    state = collections.OrderedDict(w=Tensor(weights, (2, 3), (1, 2)), n=Tensor(steps, (), ()))
    path = tmp_path / "small.pth"
    with open(path, "wb") as handle:
        for header in (torch_pickle.LEGACY_MAGIC_NUMBER, torch_pickle.LEGACY_PROTOCOL_VERSION):
            pickle.dump(header, handle, protocol=2)
        pickle.dump({"little_endian": True}, handle, protocol=2)
        Pickler(handle, protocol=2).dump(state)
        pickle.dump(["0", "1"], handle, protocol=2)
        for storage in (weights, steps):
            handle.write(struct.pack("<q", len(storage.values)) + storage.values.tobytes())
    loaded = torch_pickle.load_state_dict(path)
    np.testing.assert_array_equal(loaded["w"], np.arange(6).reshape(3, 2).T)
    assert loaded["n"] == 42


# ---- the Keras model against an independent NumPy forward pass ------------------------------


def _same_padding(size, kernel, stride):
    """TensorFlow's 'SAME': output ceil(size / stride), the extra pixel after, not before."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _conv(x, weight, stride, groups_depthwise=False):
    """NHWC input, PyTorch OIHW weight ((C, 1, k, k) when depthwise), TF 'SAME' padding."""
    k = weight.shape[2]
    top, bottom = _same_padding(x.shape[1], k, stride)
    left, right = _same_padding(x.shape[2], k, stride)
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    out_h, out_w = -(-x.shape[1] // stride), -(-x.shape[2] // stride)
    out = None
    for i in range(k):
        for j in range(k):
            window = padded[:, i : i + stride * out_h : stride, j : j + stride * out_w : stride]
            if groups_depthwise:
                term = window * weight[:, 0, i, j]
            else:
                term = window @ weight[:, :, i, j].T
            out = term if out is None else out + term
    return out


def _bn(x, tensors, key):
    scale = tensors[f"{key}.weight"] / np.sqrt(tensors[f"{key}.running_var"] + 1e-3)
    return (x - tensors[f"{key}.running_mean"]) * scale + tensors[f"{key}.bias"]


def _relu6(x):
    return np.clip(x, 0, 6)


def numpy_logits(tensors, pixels):
    """EfficientNet-Lite0 from the PyTorch tensors alone, in float64. The block structure is
    read from the tensors (expansion from the presence of an expand conv, kernel from the
    depthwise weights, residual when shapes allow); the stride-2 blocks are the paper's."""
    x = (pixels.astype("float64") - 127.0) / 128.0
    x = _relu6(_bn(_conv(x, tensors["_conv_stem.weight"], 2), tensors, "_bn0"))
    index = 0
    while f"_blocks.{index}._depthwise_conv.weight" in tensors:
        p = f"_blocks.{index}."
        stride = 2 if index in (1, 3, 5, 11) else 1
        inputs = x
        if p + "_expand_conv.weight" in tensors:
            x = _relu6(_bn(_conv(x, tensors[p + "_expand_conv.weight"], 1), tensors, p + "_bn0"))
        x = _relu6(
            _bn(_conv(x, tensors[p + "_depthwise_conv.weight"], stride, True), tensors, p + "_bn1")
        )
        x = _bn(_conv(x, tensors[p + "_project_conv.weight"], 1), tensors, p + "_bn2")
        if stride == 1 and x.shape == inputs.shape:
            x = x + inputs
        index += 1
    x = _relu6(_bn(_conv(x, tensors["_conv_head.weight"], 1), tensors, "_bn1"))
    return x.mean(axis=(1, 2)) @ tensors["_fc.weight"].T + tensors["_fc.bias"]


def test_the_keras_model_computes_what_the_numpy_reference_computes(tensors, tmp_path):
    import keras

    model = efficientnet_lite.imagenet_classifier(image_size=67, cache_dir=tmp_path)
    logits_model = keras.Model(model.input, model.get_layer("logits").output)
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, size=(2, 67, 67, 3)).astype("float32")  # odd: SAME matters
    keras_logits = np.asarray(logits_model.predict_on_batch(pixels))
    reference = numpy_logits(tensors, pixels)
    assert np.abs(keras_logits - reference).max() < 1e-4 * max(1.0, np.abs(reference).max())
    np.testing.assert_array_equal(keras_logits.argmax(axis=1), reference.argmax(axis=1))


def test_converted_weights_are_cached_and_reused(tmp_path):
    path = efficientnet_lite.imagenet_weights(tmp_path)
    assert path.is_file() and path.name.endswith(".weights.h5")
    modified = path.stat().st_mtime_ns
    assert efficientnet_lite.imagenet_weights(tmp_path) == path
    assert path.stat().st_mtime_ns == modified
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


# ---- real photos ------------------------------------------------------------------------------


def _photo(array) -> np.ndarray:
    from photos.images import load_pixels

    buffer = io.BytesIO()
    Image.fromarray(array).convert("RGB").save(buffer, "PNG")
    return load_pixels(buffer.getvalue(), 224)  # the app's own decode, crop and resize


def _top(classifier, pixels, k=3) -> list[str]:
    row = np.asarray(classifier.predict_on_batch(pixels[None].astype("float32")))[0]
    return [imagenet.class_names()[imagenet.class_ids()[i]] for i in np.argsort(-row)[:k]]


@pytest.mark.parametrize(
    "photo, expected",
    [
        ("coffee", {"espresso"}),
        ("chelsea", {"tabby, tabby cat", "tiger cat", "Egyptian cat"}),
        ("rocket", {"missile", "projectile, missile", "space shuttle"}),
    ],
)
def test_real_photos_from_scikit_image_land_in_sensible_classes(classifier, photo, expected):
    from skimage import data

    top = _top(classifier, _photo(getattr(data, photo)()))
    assert top[0] in expected, top


def test_a_photo_shipped_by_matplotlib_lands_in_a_sensible_class(classifier):
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as handle:
        array = np.asarray(Image.open(handle).convert("RGB"))
    assert "military uniform" in _top(classifier, _photo(array))
