"""The evidence store's rows: content-addressed blobs and the hash-chained custody log."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Blob(models.Model):
    """Bytes stored once under their SHA-256; never changed after they are written."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.PositiveBigIntegerField()
    mime_type = models.CharField(max_length=127)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.sha256[:12]}… ({self.mime_type}, {self.size} bytes)"

    @property
    def storage_name(self) -> str:
        return blob_storage_name(self.sha256)


def blob_storage_name(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


class AuditChain(models.Model):
    """The head of one hash chain: its last sequence number and hash.

    Writers lock this row, so appends to one chain are serialised and a removed tail
    is detectable (the head still names it).
    """

    key = models.CharField(max_length=64, unique=True)
    seq = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"{self.key} @ {self.seq}"


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    JOB = "job", _("Job")
    SYSTEM = "system", _("System")


class AuditEvent(models.Model):
    """One change, recorded in the transaction that made it.

    ``hash`` covers every other field and the previous row's hash, so editing or
    deleting a row breaks the chain. Actors are stored by value, not by foreign key:
    deleting a user must not rewrite history.
    """

    chain = models.CharField(max_length=64)
    seq = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    actor_kind = models.CharField(max_length=8, choices=ActorKind.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_name = models.CharField(max_length=150)
    action = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=64)
    subject_id = models.CharField(max_length=64)
    ref = models.CharField(max_length=64, blank=True, db_index=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["chain", "seq"]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_chain_seq_unique")]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx")]

    def __str__(self) -> str:
        return f"{self.chain}#{self.seq} {self.action} by {self.actor_name}"


class RenditionKind(models.TextChoices):
    THUMBNAIL = "thumbnail", _("Thumbnail")
    PRINT_TILE = "print_tile", _("Print tile")


class Rendition(models.Model):
    """A derived image of a blob (thumbnail, or one print tile of a tall screenshot).

    Made once per source hash, when the evidence is stored, so documents never decode
    the originals; stored content-addressed like everything else.
    """

    source = models.ForeignKey(Blob, on_delete=models.CASCADE, related_name="renditions")
    kind = models.CharField(max_length=16, choices=RenditionKind.choices)
    index = models.PositiveSmallIntegerField(default=0)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "kind", "index"]
        constraints = [models.UniqueConstraint(fields=["source", "kind", "index"], name="rendition_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.index} of {self.source_id[:12]}…"
