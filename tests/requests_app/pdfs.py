"""Small PDF files built byte by byte, with a correct cross-reference table, for the delivery
tests (no PDF library needed)."""

from django.core.files.uploadedfile import SimpleUploadedFile


def make_pdf(*, padding: int = 0, xref_stream: bool = False) -> bytes:
    """A one-page PDF; `padding` bytes of a comment make it as large as a test needs."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    ]
    out = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
    if padding:
        out += b"%" + b"x" * padding + b"\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    if xref_stream:
        # PDF 1.5+ may keep its cross-references in a stream object instead of a table.
        out += b"4 0 obj\n<< /Type /XRef /Size 5 /Root 1 0 R /W [1 2 1] /Length 0 >>\nstream\n"
        out += b"\nendstream\nendobj\n"
    else:
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return out


def pdf_upload(name="论文全文.pdf", content=None, content_type="application/pdf"):
    return SimpleUploadedFile(name, make_pdf() if content is None else content, content_type)
