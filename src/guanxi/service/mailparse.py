"""Reading an RFC 5322 email into what the intake needs (no database here).

The standard library's `email` package with policy.default decodes RFC 2047 headers (=?UTF-8?B?…?=, =?GB2312?B?…?=) and
MIME parts. Chinese mail clients often label GBK text as GB2312 (GBK is a superset): every charset of the GB family is
read as GB18030, which is a superset of both. The body is the text/plain part when there is one, otherwise the
text/html part turned into plain text (tags dropped, scripts and styles skipped, entities decoded; nothing of the
HTML is ever rendered). Attachments (and forwarded messages, kept as .eml files) come back as bytes.
"""

import base64
import hashlib
import quopri
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

# A ticket number in a subject: "Re: [GD20261127000123] …" (the bracketed form is what our replies carry).
TICKET_NUMBER = re.compile(r"\[(GD\d{15})\]|\b(GD\d{15})\b")
_GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "euc-cn", "x-gbk", "csgb2312"}
_ENCODED_WORD = re.compile(r"=\?([^?]+)\?([bBqQ])\?([^?]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(=\?)")


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str
    subject: str
    sender_name: str
    sender_address: str
    to: list[str]
    date: datetime | None
    text: str
    in_reply_to: str
    references: list[str]
    attachments: list[Attachment] = field(default_factory=list)

    @property
    def ticket_number(self) -> str | None:
        match = TICKET_NUMBER.search(self.subject)
        return (match.group(1) or match.group(2)) if match else None

    @property
    def sender(self) -> str:
        """ "Name <address>" as shown on the ticket (the address alone when there is no name)."""
        if self.sender_name and self.sender_address:
            return f"{self.sender_name} <{self.sender_address}>"
        return self.sender_address or self.sender_name


def parse(raw: bytes) -> ParsedMail:
    """The parts of a raw message the intake uses; a message without a Message-ID gets one derived from its bytes (so
    the same message delivered twice is still recognised)."""
    message: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    message_id = _header(message, "Message-ID").strip()
    if not message_id:
        message_id = f"<{hashlib.sha256(raw).hexdigest()}@guanxi.invalid>"
    name, address = _sender(message)
    return ParsedMail(
        message_id=message_id[:300],
        subject=" ".join(_header(message, "Subject").split())[:300],
        sender_name=name[:100],
        sender_address=address[:254],
        to=[addr for _name, addr in getaddresses([_header(message, "To"), _header(message, "Cc")]) if addr],
        date=_date(message),
        text=_body(message),
        in_reply_to=_header(message, "In-Reply-To").strip()[:300],
        references=_header(message, "References").split(),
        attachments=list(_attachments(message)),
    )


def _decode_words(value: str) -> str:
    """RFC 2047 encoded words of a header that holds GB-labelled ones (GB2312 text that is really GBK, which the
    library cannot decode): the GB family read as GB18030, other charsets as labelled."""

    def word(match: re.Match) -> str:
        charset, encoding, text = match.group(1).lower().split("*")[0], match.group(2).lower(), match.group(3)
        charset = "gb18030" if charset in _GB_FAMILY else charset
        try:
            data = base64.b64decode(text + "===") if encoding == "b" else quopri.decodestring(text.replace("_", " "))
            return data.decode(charset, errors="replace")
        except (ValueError, LookupError):
            return match.group(0)

    # RFC 2047 §6.2: white space between two adjacent encoded words is not displayed.
    return _ENCODED_WORD.sub(word, _BETWEEN_WORDS.sub(r"\1\2", value))


def _header(message: EmailMessage, name: str) -> str:
    raw = _raw_header(message, name)
    if _gb_labelled(raw):
        return _decode_words(" ".join(raw.split()))
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a malformed header the parser cannot model: keep its raw text
        return " ".join(raw.split())
    return "" if value is None else str(value)


def _raw_header(message: EmailMessage, name: str) -> str:
    return str(next((value for key, value in message.raw_items() if key.lower() == name.lower()), ""))


def _gb_labelled(raw: str) -> bool:
    lowered = raw.lower()
    return "=?" in lowered and any(f"=?{charset}?" in lowered for charset in _GB_FAMILY)


def _sender(message: EmailMessage) -> tuple[str, str]:
    header = _header(message, "From")
    if not _gb_labelled(_raw_header(message, "From")):
        try:
            addresses: tuple[Address, ...] = message["From"].addresses if message["From"] is not None else ()
        except (AttributeError, ValueError, IndexError, TypeError):
            addresses = ()
        if addresses and addresses[0].addr_spec:
            return addresses[0].display_name.strip(), addresses[0].addr_spec.strip().lower()
    pairs = getaddresses([header])
    if pairs and pairs[0][1]:
        return pairs[0][0].strip(), pairs[0][1].strip().lower()
    return "", ""


def _date(message: EmailMessage) -> datetime | None:
    value = _header(message, "Date")
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else None


def part_text(part: MIMEPart) -> str:
    """The text of a text/* part in its declared charset (the GB family read as GB18030; unknown ones as UTF-8)."""
    payload = part.get_payload(decode=True) or b""
    charset = (part.get_content_charset() or "utf-8").lower()
    if charset in _GB_FAMILY:
        charset = "gb18030"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = part_text(part)
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return _tidy(text)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _attachments(message: EmailMessage):
    if not message.is_multipart():
        return
    for index, part in enumerate(message.iter_attachments(), start=1):
        content_type = part.get_content_type()
        if content_type == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) else inner
            data = inner.as_bytes(policy=policy.default.clone(linesep="\r\n"))
            subject = str(inner.get("Subject", "") or "")
            name = f"{_safe_name(subject) or 'forwarded'}.eml"
        else:
            data = part.get_payload(decode=True) or b""
            name = _safe_name(part.get_filename() or "") or f"attachment-{index}"
        if data:
            yield Attachment(name=name[:200], content_type=content_type[:100], data=data)


def _safe_name(name: str) -> str:
    """A file name without directories or control characters (it is only ever shown, never used as a path)."""
    name = _decode_words(name).replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch.isprintable()).strip()[:200]


class _TextExtractor(HTMLParser):
    """Text of an HTML body: block elements become line breaks, scripts, styles and the head are dropped."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "hr"}
    SKIP = {"script", "style", "head", "title", "noscript", "template"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    text = "".join(extractor.parts).replace("\xa0", " ")
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))
