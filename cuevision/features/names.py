"""The feature registry: every column of a FeatureSeries, with its one-line meaning.

Columns are ``<role>.<name>`` for each role in ``cuevision.types.ROLES`` and each name in
``PERSON_FEATURES``, then ``dyad.<name>`` for each name in ``DYAD_FEATURES``, then ``voice.<name>``
for each name in ``VOICE_FEATURES`` (the audio track, :mod:`cuevision.audio`; without audio
``voice.present`` is 0 and the rest NaN). The simulator, the detector and the report all take the
list from here.

Units: angles in degrees; lengths in *face sizes* (the person's median 3-D outer-eye-corner
distance, or the mean of both people's for between-person lengths); speeds in face sizes per
second. None of them depends on the image size or on the distance to the camera.
"""

from __future__ import annotations

from cuevision.types import ROLES

FEATURE_VERSION = "4"  # 2: the voice.* columns; 3: head direction from the pose; 4: laugh, cry

PERSON_FEATURES: dict[str, str] = {
    "visible": "1 if this person's face or body pose was found at this time, else 0 (mask)",
    "face_visible": "1 if the face mesh was found (or bridged across a gap of at most 0.3 s), "
    "else 0 (mask for face features)",
    "pose_visible": "1 if any body point was found in the frame with visibility >= 0.5, else 0 "
    "(mask for body features)",
    "yaw": "head yaw in degrees; > 0 when the nose points toward image right",
    "pitch": "head pitch in degrees; > 0 when the face points up",
    "roll": "head roll in degrees; > 0 when the head tilts counter-clockwise in the image",
    "gaze_yaw": "gaze yaw in degrees (head pose plus iris offset); > 0 toward image right",
    "gaze_pitch": "gaze pitch in degrees (head pose plus iris offset); > 0 up",
    "gaze_to_partner": "degrees between the gaze and the 3-D direction to the partner's face, "
    "depth read from face sizes (0 = straight at them; at the camera: about 60-110)",
    "head_to_partner": "degrees between the head's facing direction and the direction to the "
    "partner's face (like gaze_to_partner, without the iris)",
    "mouth_open": "gap between the inner lips, in face sizes",
    "mouth_width": "distance between the lip corners, in face sizes",
    "lip_corner_raise": "height of the lip corners above the centre of the inner lips along the "
    "face's up axis, in face sizes (rises in a smile)",
    "smile": "smile measure: lip_corner_raise + mouth_width",
    "eye_open": "eye openness: lid gap over eye width, mean of both eyes",
    "brow_raise": "height of the brows above the eye centres along the face's up axis, "
    "in face sizes",
    "face_motion": "face motion energy: mean speed of the face-mesh landmarks, face sizes/s",
    "body_motion": "body motion energy: mean speed of the visible upper-body pose landmarks, "
    "face sizes/s",
    "wrist_speed": "speed of the faster visible wrist, face sizes/s",
    "hand_to_partner": "distance from the nearer hand to the nearest point of the partner's "
    "body or face, in face sizes",
    "hand_approach": "rate at which hand_to_partner shrinks, face sizes/s (> 0 = approaching)",
    "head_approach": "speed of this person's head toward the partner's head, face sizes/s "
    "(> 0 = moving closer)",
    "trunk_lean": "trunk lean toward the partner in degrees, shoulders over hips in the image "
    "(> 0 = toward the partner); NaN without visible hips",
    "head_source": "where the head direction comes from: 2 the face mesh, 1 the pose's nose and "
    "ears (coarse), 0 neither (the quality of the any_* columns)",
    "pose_yaw": "coarse head yaw in degrees from the pose's nose and ears (> 0 toward image "
    "right); NaN without the nose and an ear",
    "pose_pitch": "coarse head pitch in degrees from the pose's nose and ears (> 0 up)",
    "any_head_to_partner": "head_to_partner from the mesh, else the angle between the pose's head "
    "direction and the direction to the partner (see head_source)",
    "any_gaze_to_partner": "gaze_to_partner from the mesh, else the pose's head direction to the "
    "partner, as any_head_to_partner (see head_source)",
}

DYAD_FEATURES: dict[str, str] = {
    "distance": "distance between the two heads, in face sizes (mean of both people's)",
    "mutual_gaze": "likelihood (0..1) that each looks at the other: product of both "
    "people's gaze-on-partner probabilities",
}

# The audio track on the same grid; each value summarises the audio within half a grid step.
# Who vocalises is a column of the voice, not of the person: the evidence is the sound first.
VOICE_FEATURES: dict[str, str] = {
    "present": "1 where the audio track covers this time, else 0 (mask; 0 throughout a video "
    "without audio)",
    "activity": "speech probability from silero-vad, the maximum over the grid step (0..1)",
    "vocal": "probability that someone vocalises: speech, or voicing at least 15 dB above the "
    "session's quiet floor (babble, squeals, laughs) (0..1)",
    "f0_hz": "fundamental frequency (Praat autocorrelation, 75-1000 Hz), geometric mean of the "
    "step's voiced 10 ms frames; NaN where unvoiced",
    "voicing": "share of the step's 10 ms frames that are voiced (0..1)",
    "intensity_db": "mean intensity in dB, relative (samples read as pascals; 0 = silence)",
    "child_vocalising": "probability that the child vocalises: vocal times the child's share "
    "from pitch and both people's mouth motion (0..1)",
    "caregiver_vocalising": "probability that the caregiver vocalises: vocal times the "
    "caregiver's share (0..1)",
    "mouth_evidence": "how many visible faces informed who vocalises (0: pitch alone, 1, 2); "
    "NaN without audio",
    "laugh": "evidence (0..1) of a laugh's train of short voiced bursts around this time: 2-7 Hz "
    "modulation of the voiced intensity over 1.5 s, with 2 or more 30-300 ms bursts; anyone's "
    "laugh (who: child_vocalising, caregiver_vocalising)",
    "cry": "evidence (0..1) of loud, sustained, high-pitched voicing around this time: over "
    "3 s, most frames voiced, F0 above 400 Hz and level above 60 dB; anyone's",
}

# The person features that are visibility masks (1 where the person, face or body was seen, else
# 0): they say where someone was seen, not how they moved, so they are not signals to correlate.
MASK_FEATURES: tuple[str, ...] = ("visible", "face_visible", "pose_visible")

# Every column of a FeatureSeries (``t_s`` is kept apart), in order, with its meaning.
FEATURE_DOCS: dict[str, str] = {
    **{f"{role}.{name}": doc for role in ROLES for name, doc in PERSON_FEATURES.items()},
    **{f"dyad.{name}": doc for name, doc in DYAD_FEATURES.items()},
    **{f"voice.{name}": doc for name, doc in VOICE_FEATURES.items()},
}
FEATURE_NAMES: tuple[str, ...] = tuple(FEATURE_DOCS)
