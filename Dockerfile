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
# collectstatic needs production settings (for the static manifest); these values exist
# only for this build step, which reaches no database, Redis or secret. Files go where the
# app serves them from at run time (VAR_DIR defaults to /app/var).
RUN DEBUG=false SECRET_KEY=collectstatic-only-$(head -c 48 /dev/urandom | base64 | tr -dc A-Za-z0-9) \
    AUDIT_KEY=collectstatic-only ALLOWED_HOSTS=build \
    CREDENTIALS_KEY=$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
    DATABASE_URL=postgres://build@localhost/build REDIS_URL=redis://localhost:6379/0 VAR_DIR=/app/var \
    python manage.py collectstatic --noinput \
    && useradd --system --uid 1000 --home /app casemanager && mkdir -p /data/evidence && chown casemanager /data/evidence
# Not root: Chromium keeps its sandbox for page captures, and the app cannot write its own code.
USER casemanager
EXPOSE 8000
CMD ["gunicorn", "casemanager.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120"]
