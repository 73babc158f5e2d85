"""Perception for a real arm: a :class:`hardware.base.World` built from a camera.

- :mod:`hardware.perception.camera`: frames (RGB, and depth in metres where the camera has it) from OpenCV
  (``cv2.VideoCapture``) or an Intel RealSense (``pyrealsense2``, only where installed), with pinhole
  intrinsics.
- :mod:`hardware.perception.calibration`: the camera's pose in the robot base frame from one image of a
  ChArUco board (``cv2.aruco``) lying at a known place on the table.
- :mod:`hardware.perception.segment`: blocks and bowls by colour and shape, with positions and sizes in the
  base frame, as the :class:`hardware.scene.Scene` the simulator uses.
- :mod:`hardware.perception.world`: :class:`CameraWorld`, the World the skills and the session use.

OpenCV and numpy are imported inside these modules only; nothing here imports the simulator.
"""
from hardware.errors import RobocorrectError


class PerceptionError(RobocorrectError, RuntimeError):
    """The camera, the calibration or the segmentation failed; the message says what to fix."""


__all__ = ["PerceptionError"]
