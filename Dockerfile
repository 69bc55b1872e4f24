# The cuevision API and worker image (CPU only). Models ship inside the mediapipe wheel and in models/.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY cuevision ./cuevision
COPY models ./models
COPY annotation ./annotation
RUN pip install --no-cache-dir -e .
ENV CUEVISION_DATA_DIR=/data
EXPOSE 8000
CMD ["cuevision", "serve", "--host", "0.0.0.0", "--port", "8000"]
