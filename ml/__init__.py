"""ml: model versions, scoring photos into per-city probability arrays, synthetic demo photos."""
