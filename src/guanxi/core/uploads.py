"""Checks of uploaded files by their content, not by their name or the browser's Content-Type.

- XLSX: a ZIP archive holding the members every workbook has ([Content_Types].xml, xl/workbook.xml), whose unpacked
  size stays under GUANXI_UPLOAD_MAX_UNPACKED_BYTES (a "zip bomb" is refused before anything parses it).
- Text (CSV, vCard): decodes as UTF-8 or GB18030 and holds no binary control characters.

Uploaded files are stored under MEDIA_ROOT (GUANXI_HOME/media), which no URL serves: a stored file reaches a user only
through a view that checks the user's scope first.
"""

import codecs
import re
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

XLSX_MEMBERS = ("[Content_Types].xml", "xl/workbook.xml")
# C0 control characters other than tab, line feed, form feed and carriage return never occur in text files.
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")


def check_xlsx(upload) -> None:
    """Raise ValidationError({"file": …}) unless `upload` (a file object, rewound afterwards) is a plausible XLSX."""
    position = upload.tell()
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            if not all(name in names for name in XLSX_MEMBERS):
                raise ValidationError({"file": _("The file is not an XLSX workbook.")})
            if sum(member.file_size for member in members) > settings.GUANXI_UPLOAD_MAX_UNPACKED_BYTES:
                raise ValidationError({"file": _("The workbook is too large once unpacked.")})
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise ValidationError({"file": _("The file is not an XLSX workbook.")}) from exc
    finally:
        upload.seek(position)


def check_text(head: bytes) -> None:
    """Raise ValidationError({"file": …}) when the first bytes of a file are not text (UTF-8 or GB18030)."""
    if _BINARY.search(head):
        raise ValidationError({"file": _("The file is not a text file.")})
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            # final=False: the sample may end inside a multi-byte character.
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
        except UnicodeDecodeError:
            continue
        return
    raise ValidationError({"file": _("The file is neither UTF-8 nor GB18030 text.")})


def check_content(upload, fmt: str, head: bytes) -> None:
    """The content check of a file detected as `fmt` (xlsx, csv, vcf)."""
    if fmt == "xlsx":
        check_xlsx(upload)
    else:
        check_text(head)
