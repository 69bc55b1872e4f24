# The cuevision image of the lab server's api and worker services (CPU only; docker-compose.yml).
# Models ship inside the mediapipe wheel and in models/, so nothing is downloaded at run time.
FROM python:3.11-slim
# libGL and GLib for OpenCV and MediaPipe
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
# pip reads it during the build: e.g. a CPU-only PyTorch index keeps the image GBs smaller
ARG PIP_EXTRA_INDEX_URL=
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cuevision ./cuevision
COPY models ./models
COPY annotation ./annotation
RUN pip install --no-cache-dir .
# not root; /data is the volume's mount point, so a new volume starts owned by this user
RUN useradd --uid 10001 --create-home cuevision && mkdir -m 0700 /data \
    && chown cuevision /data
USER cuevision
WORKDIR /home/cuevision
ENV CUEVISION_DATA_DIR=/data PYTHONUNBUFFERED=1
EXPOSE 8000
CMD ["cuevision", "serve", "--host", "0.0.0.0", "--port", "8000"]
