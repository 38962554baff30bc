"""Bulk imports from a folder on the operator's machine: licensed model faces and a store's product shots.

Used by ``manage.py import_faces`` / ``import_shots`` and by the demo seed. Each file goes through the same
services as a dashboard upload (``catalog.faces.face_upload``, ``catalog.services.product_shot_upload``), so it is
checked, cleaned and queued for the GPU worker the same way. A file already imported (same name in the same
gallery or store) is skipped, so running an import twice adds nothing; a bad file is reported and the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Store, User
from catalog import faces, services
from catalog.models import ModelFace, ProductShot

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
NAME_LENGTH = ModelFace._meta.get_field("name").max_length


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already there
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file name, why)

    def summary(self) -> str:
        return f"{len(self.imported)} imported, {len(self.skipped)} already there, {len(self.failed)} refused"

    @property
    def nothing_usable(self) -> bool:
        """Every file was refused: the import as a whole failed."""
        return bool(self.failed) and not (self.imported or self.skipped)

    def write(self, command, what: str) -> None:
        """A management command's account of the import: each refusal on stderr, the totals on stdout; raises
        ``CommandError`` (exit status 1) when every file was refused."""
        from django.core.management.base import CommandError

        for name, why in self.failed:
            command.stderr.write(f"refused {name}: {why}")
        command.stdout.write(f"{what}: {self.summary()}")
        if self.nothing_usable:
            raise CommandError(f"no {what} imported: every file was refused")


def image_files(directory: Path | str) -> list[Path]:
    """The photos directly inside ``directory``, by name. Raises ValidationError when it is not a folder."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ValidationError(f"{folder} is not a folder")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _upload(path: Path) -> SimpleUploadedFile:
    return SimpleUploadedFile(path.name, path.read_bytes())


def _reason(exc: ValidationError) -> str:
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    return "; ".join(" ".join(messages) if key in ("__all__", "file") else f"{key}: {' '.join(messages)}"
                     for key, messages in exc.message_dict.items())


def faces_import(
    *, files: list[Path], store: Store | None, consent_given_by: str, consent_purpose: str,
    tags_for=lambda path: [], publish_as: User | None = None, created_by: User | None = None,
) -> tuple[ImportReport, list[ModelFace]]:
    """Import each photo as a face named after its file, with the consent record given for all of them.

    ``store=None`` adds public gallery faces; with ``publish_as`` (a staff user) they are approved and published
    in that user's name (the curation audit trail), else they wait in the curation queue. Returns the report and
    the imported faces.
    """
    if publish_as is not None and (store is not None or not publish_as.is_staff):
        raise ValidationError("only public gallery faces can be published, by a staff user")
    report, imported = ImportReport(), []
    existing = ModelFace.objects.filter(store=store, source=ModelFace.Source.UPLOADED)
    for path in files:
        name = path.stem[:NAME_LENGTH]
        if existing.filter(name=name).exists():
            report.skipped.append(path.name)
            continue
        try:
            face = faces.face_upload(store=store, created_by=created_by, file=_upload(path), name=name,
                                     consent_given_by=consent_given_by, consent_purpose=consent_purpose,
                                     tags=tags_for(path))
            if publish_as is not None:
                face = faces.face_curate(face=face, action="approve_publish", curator=publish_as)
        except ValidationError as exc:
            report.failed.append((path.name, _reason(exc)))
            continue
        report.imported.append(path.name)
        imported.append(face)
    return report, imported


def shots_import(*, files: list[Path], store: Store, uploaded_by: User | None = None) -> ImportReport:
    """Import each photo as one of ``store``'s product shots (face detection is queued for each)."""
    report = ImportReport()
    existing = ProductShot.objects.filter(store=store, status=ProductShot.Status.READY)
    for path in files:
        if existing.filter(original_filename=path.name).exists():
            report.skipped.append(path.name)
            continue
        try:
            services.product_shot_upload(store=store, uploaded_by=uploaded_by, file=_upload(path))
        except ValidationError as exc:
            report.failed.append((path.name, _reason(exc)))
            continue
        report.imported.append(path.name)
    return report
