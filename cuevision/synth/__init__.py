"""Synthetic material with known ground truth: a rendered dyad video (``synth.video``) and a
feature-level dyad simulator (``synth.dyad``)."""
