"""Synthetic material with known ground truth: a rendered dyad video (``synth.video``, its faces in
``synth.faces``) and a feature-level dyad simulator (``synth.dyad``, built from ``channels``,
``effects``, ``events``, ``person`` and ``noise``)."""
