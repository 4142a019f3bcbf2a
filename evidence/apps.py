from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence store and custody log"

    def ready(self) -> None:
        # Django writes large uploads here and does not create the folder itself.
        if settings.FILE_UPLOAD_TEMP_DIR:
            Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
