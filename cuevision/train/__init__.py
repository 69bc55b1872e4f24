"""Training the detector: datasets split by dyad, the fit, tuning, evaluation and registry writes.

``cuevision train`` calls :func:`cuevision.train.run.train_model`. With ``cuevision.detect``, the
only package that imports torch.
"""
