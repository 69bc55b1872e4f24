"""The pipeline's stages as durable tasks (``tasks``) and the runner inside ``cuevision serve``
(``runner``). A task takes its settings and paths as arguments and keeps its state in the
database, so another runner (Celery workers, later) can run the very same tasks."""
