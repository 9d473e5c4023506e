"""Reading a legacy (pre-1.6, non-zip) PyTorch ``state_dict`` file without torch, safely.

A ``.pth`` file is a pickle, and a pickle is a program: ``pickle.load`` would import and call
whatever the file names. This reader runs it with an allow-list of four globals (the ordered
dict, the tensor rebuild function and the float and int64 storages, mapped to NumPy) and refuses
every other one before anything is called. Layout of the legacy format (torch/serialization.py,
``_legacy_save``): five pickles (magic number, protocol version, system info, the object with
storages as persistent ids, the sorted storage keys), then each storage as an int64 element
count followed by its little-endian data."""

import collections
import hashlib
import io
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LEGACY_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL_VERSION = 1001
STORAGE_DTYPES = {"FloatStorage": np.dtype("<f4"), "LongStorage": np.dtype("<i8")}


class UnsafePickleError(pickle.UnpicklingError):
    """The file names a global outside the allow-list, or is not a legacy state dict."""


@dataclass(frozen=True)
class _Storage:
    key: str
    dtype: np.dtype
    count: int


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple[int, ...]
    strides: tuple[int, ...]


def _rebuild_tensor_v2(storage, offset, shape, strides, requires_grad=False, hooks=None, *rest):
    if not isinstance(storage, _Storage):
        raise UnsafePickleError("A tensor must be built from a storage of the file.")
    return _TensorRef(storage, int(offset), tuple(shape), tuple(strides))


class _StorageType:
    """Stands for ``torch.FloatStorage`` / ``torch.LongStorage``: only named, never called."""

    def __init__(self, name: str):
        self.name = name

    def __call__(self, *args, **kwargs):
        raise UnsafePickleError(f"torch.{self.name} may not be called by the file.")


ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    **{("torch", name): _StorageType(name) for name in STORAGE_DTYPES},
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"Refused global '{module}.{name}': only {len(ALLOWED_GLOBALS)} allow-listed "
                "names may appear in a weights file."
            ) from None

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, element count, view metadata)
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise UnsafePickleError(f"Unexpected persistent id {pid!r}.")
        storage_type, key, _location, count, view = pid[1:]
        if not isinstance(storage_type, _StorageType) or view is not None:
            raise UnsafePickleError("Only whole float32 / int64 storages are supported.")
        return _Storage(str(key), STORAGE_DTYPES[storage_type.name], int(count))


def _load_one(handle):
    return _RestrictedUnpickler(handle).load()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_state_dict(path: Path, expected_sha256: str | None = None) -> dict[str, np.ndarray]:
    """The tensors of a legacy PyTorch state dict as NumPy arrays, by name, in file order.

    Raises UnsafePickleError for a disallowed global or a file of another layout, ValueError
    when the file's sha256 is not ``expected_sha256``."""
    path = Path(path)
    if expected_sha256 is not None and (actual := sha256_of(path)) != expected_sha256:
        raise ValueError(f"{path.name}: sha256 {actual} is not the pinned {expected_sha256}.")
    with open(path, "rb") as raw:
        handle = io.BufferedReader(raw)
        if _load_one(handle) != LEGACY_MAGIC_NUMBER:
            raise UnsafePickleError(f"{path.name} is not a legacy PyTorch file.")
        if _load_one(handle) != LEGACY_PROTOCOL_VERSION:
            raise UnsafePickleError(f"{path.name}: unsupported PyTorch protocol version.")
        system = _load_one(handle)
        if not (isinstance(system, dict) and system.get("little_endian")):
            raise UnsafePickleError(f"{path.name}: only little-endian files are supported.")
        state = _load_one(handle)
        keys = _load_one(handle)
        if not isinstance(state, collections.OrderedDict) or not isinstance(keys, list):
            raise UnsafePickleError(f"{path.name} does not hold a state dict.")
        storages_by_key = {
            ref.storage.key: ref.storage for ref in state.values() if isinstance(ref, _TensorRef)
        }
        data: dict[str, np.ndarray] = {}
        for key in keys:
            storage = storages_by_key.get(str(key))
            if storage is None:
                raise UnsafePickleError(f"{path.name}: storage {key} is used by no tensor.")
            count = int(np.frombuffer(handle.read(8), dtype="<i8")[0])
            if count != storage.count:
                raise UnsafePickleError(f"{path.name}: storage {key} has the wrong size.")
            size = count * storage.dtype.itemsize
            buffer = handle.read(size)
            if len(buffer) != size:
                raise UnsafePickleError(f"{path.name} is truncated.")
            data[storage.key] = np.frombuffer(buffer, dtype=storage.dtype)
    tensors = {}
    for name, ref in state.items():
        if not isinstance(ref, _TensorRef):
            raise UnsafePickleError(f"{path.name}: entry {name!r} is not a tensor.")
        flat = data[ref.storage.key]
        item = flat.dtype.itemsize
        last = ref.offset + sum((n - 1) * s for n, s in zip(ref.shape, ref.strides, strict=True))
        if ref.offset < 0 or min(ref.strides, default=1) < 0 or last >= len(flat):
            raise UnsafePickleError(f"{path.name}: tensor {name!r} reaches outside its storage.")
        view = np.lib.stride_tricks.as_strided(
            flat[ref.offset :],
            shape=ref.shape,
            strides=tuple(s * item for s in ref.strides),
            writeable=False,
        )
        tensors[name] = np.ascontiguousarray(view).copy()  # C order, apart from the buffer
    return tensors
