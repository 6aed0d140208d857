"""vCard (RFC 6350 / 2426) export of contacts, with the vobject library. Masking applies as everywhere."""

import vobject

from guanxi.core.masking import sees_sensitive_fields
from guanxi.customers.models import Contact


def contact_vcard(*, user, contact: Contact) -> str:
    """A vCard 3.0 of one contact. Users who see phones masked get no phone numbers at all (a masked number is
    useless in an address book and must not look like a real one)."""
    card = vobject.vCard()
    card.add("fn").value = contact.name
    card.add("n").value = vobject.vcard.Name(family=contact.name[:1], given=contact.name[1:])
    card.add("org").value = [contact.customer.name]
    card.add("x-guanxi-customer").value = contact.customer.number  # lets the file be imported back to its customer
    if contact.title:
        card.add("title").value = contact.title
    if sees_sensitive_fields(user):
        for number, kind in ((contact.mobile, "CELL"), (contact.landline, "WORK")):
            if number:
                tel = card.add("tel")
                tel.value = number
                tel.type_param = kind
    if contact.email:
        email = card.add("email")
        email.value = contact.email
        email.type_param = "INTERNET"
    if contact.birthday:
        card.add("bday").value = contact.birthday.isoformat()
    if contact.wechat:
        card.add("x-wechat").value = contact.wechat
    return card.serialize()
