"""Video input and output: probe and validate, decode with true PTS, write H.264, make a CFR proxy.

One clock: every time is seconds on the file's presentation timestamps (PTS), measured from the
first frame, so the first frame is at ``t_s == 0``. Never ``index / fps``: webcam and phone video
have variable frame rates (the Lookit clips step 0.030 s, then 0.032 s, and some frames lie less
than 1 ms apart, which are real frames and keep their true PTS).

Rotation: a container display matrix is applied on decode, so frames, widths and heights are
always those of the upright picture.
"""

from cuevision.video.decode import Frame, decode
from cuevision.video.probe import Limits, VideoError, is_variable_rate, probe
from cuevision.video.writer import VideoWriter, make_cfr_proxy

__all__ = [
    "Frame",
    "Limits",
    "VideoError",
    "VideoWriter",
    "decode",
    "is_variable_rate",
    "make_cfr_proxy",
    "probe",
]
