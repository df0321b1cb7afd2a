# Memoria from this checkout: `docker build -t memoria .` (add `--build-arg EXTRAS=neural` for the
# GPU face engines). The data folder is a volume; see compose.yaml for MariaDB and coturn.
FROM python:3.11-slim-bookworm

ARG EXTRAS=""
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MEMORIA_DATA_DIR=/data \
    MEMORIA_WEIGHTS_DIR=/weights \
    MEMORIA_HOST=0.0.0.0

# what OpenCV, mediapipe and PyAV need at run time
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/memoria memoria \
    && mkdir -p /data /weights && chown memoria:memoria /data /weights

WORKDIR /app
COPY . /app
RUN pip install ".${EXTRAS:+[$EXTRAS]}"

USER memoria
VOLUME ["/data", "/weights"]
EXPOSE 8000 8443
CMD ["memoria", "serve", "--lan"]
