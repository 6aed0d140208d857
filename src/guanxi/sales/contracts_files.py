"""Contract attachments: stored under GUANXI_HOME/media with random names, size-limited, read only through
`attachment_get`, which applies the contract's record scope (there is no public URL for them)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.permissions import require
from guanxi.sales.contracts import contract_get
from guanxi.sales.models import ContractAttachment

DEFAULT_MAX_BYTES = 20 * 1024 * 1024


def max_bytes() -> int:
    return int(getattr(settings, "GUANXI_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def attachment_add(*, actor, contract_id: int, upload) -> ContractAttachment:
    """Attach an uploaded file (a signed scan, an annex) to a contract the actor may see."""
    require(actor, "sales.change_contract")
    if upload is None:
        raise ValidationError({"file": _("Choose a file.")})
    if upload.size > max_bytes():
        raise ValidationError(
            {"file": _("The file is larger than %(mb)s MB.") % {"mb": max_bytes() // (1024 * 1024) or 1}}
        )
    if upload.size == 0:
        raise ValidationError({"file": _("The file is empty.")})
    name = (upload.name or "file").replace("\\", "/").rsplit("/", 1)[-1][:200]
    with transaction.atomic():
        contract = contract_get(user=actor, contract_id=contract_id)
        attachment = ContractAttachment(
            contract=contract,
            name=name,
            content_type=(upload.content_type or "application/octet-stream")[:100],
            size=upload.size,
            uploaded_by=actor,
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()
        audit.record(actor=actor, action="attach", instance=contract, changes={"attachment": [None, name]})
    return attachment


def attachment_get(*, user, contract_id: int, attachment_id: int) -> ContractAttachment:
    """An attachment of a contract the user may see; 404 otherwise (also for another contract's attachment id)."""
    contract = contract_get(user=user, contract_id=contract_id)
    attachment = ContractAttachment.objects.filter(pk=attachment_id, contract=contract).first()
    if attachment is None:
        raise Http404
    return attachment


def attachment_delete(*, actor, contract_id: int, attachment_id: int) -> None:
    require(actor, "sales.change_contract")
    with transaction.atomic():
        attachment = attachment_get(user=actor, contract_id=contract_id, attachment_id=attachment_id)
        name, stored = attachment.name, attachment.file.name
        storage = attachment.file.storage
        attachment.delete()
        audit.record(actor=actor, action="detach", instance=attachment.contract, changes={"attachment": [name, None]})
        transaction.on_commit(lambda: storage.delete(stored))
