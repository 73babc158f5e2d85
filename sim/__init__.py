"""Simulation: scenes (``sim.scene``), the PyBullet world and Panda (``sim.world``, ``sim.panda``), quirks and the
Gymnasium env. Importing ``sim`` registers ``robocorrect/Tabletop-v0`` without importing PyBullet."""
try:
    import gymnasium as _gym

    if "robocorrect/Tabletop-v0" not in _gym.registry:
        _gym.register(id="robocorrect/Tabletop-v0", entry_point="sim.env:TabletopEnv")
except ImportError:  # pragma: no cover - gymnasium is a dependency, but keep `import sim` light
    pass
