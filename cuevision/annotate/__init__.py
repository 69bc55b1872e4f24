"""The Label Studio loop: the only package that talks to Label Studio.

``server`` runs a local Label Studio; ``config`` derives the labeling config from the scheme;
``clock`` converts the PTS clock to Label Studio frames; ``tasks`` adapts dicts to events (pure);
``client`` wraps label-studio-sdk; ``sync`` pushes sessions and pulls annotations back.
"""
