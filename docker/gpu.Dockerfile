# GPU worker fleet: torch (CUDA), dlib, OpenCV. No Django, no database credentials.
FROM nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04
ENV DEBIAN_FRONTEND=noninteractive PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    GASANG_MODEL_DIR=/models
RUN apt-get update && apt-get install -y --no-install-recommends python3.11 python3.11-venv python3-pip fonts-nanum \
    && rm -rf /var/lib/apt/lists/* && python3.11 -m venv /venv
ENV PATH=/venv/bin:$PATH
WORKDIR /app
COPY requirements/gpu.txt requirements/gpu-nodeps.txt requirements/
# The CUDA build of the pinned torch first; the rest of gpu.txt then finds torch already satisfied.
# mediapipe without its declared deps (jax, opencv-contrib-python, ...): see requirements/gpu-nodeps.txt.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128 \
    && pip install -r requirements/gpu.txt && pip install --no-deps -r requirements/gpu-nodeps.txt
COPY gpu_worker gpu_worker
RUN useradd --uid 10001 --no-create-home gasang && mkdir -p /models && chown gasang /models
USER gasang
# One worker process per GPU, one job at a time (prefetch 1, late acks).
CMD ["celery", "-A", "gpu_worker.app", "worker", "-Q", "gpu", "--concurrency", "1", "--pool", "prefork", "--loglevel", "INFO"]
