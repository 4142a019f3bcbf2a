# One image for web, worker and beat. Debian 12 with its Python 3.11, as on a developer's machine.
FROM debian:bookworm-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
WORKDIR /app

COPY scripts/install-system-packages.sh scripts/
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 \
    && sh scripts/install-system-packages.sh && rm -rf /var/lib/apt/lists/*

COPY requirements.txt .
RUN python3 -m venv $VIRTUAL_ENV && pip install --no-cache-dir -r requirements.txt

COPY . .
# collectstatic needs production settings; this key exists only for this build step.
RUN DEBUG=false SECRET_KEY=collectstatic-only-$(head -c 48 /dev/urandom | base64 | tr -dc A-Za-z0-9) \
    ALLOWED_HOSTS=build VAR_DIR=/tmp/build python manage.py collectstatic --noinput \
    && useradd --system --uid 1000 --home /app casemanager && mkdir -p /data/evidence && chown casemanager /data/evidence
USER casemanager
EXPOSE 8000
CMD ["gunicorn", "casemanager.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
