"""Shared data for the request tests: the seed's worked example as the form posts it."""

import pytest


def worked_example(**overrides):
    """The seed's example (step 3), as a reader fills in the form."""
    data = {
        "token": "worked-example-token-0001",
        "service_type": "copy",
        "document_type": "journal_article",
        "publication_title": "Interlending & Document Supply",
        "volume_issue": "32(2)",
        "article_title": "Licence to Deny? Publisher restrictions on document delivery",
        "year": "2004",
        "pages": "94-101",
        "issn": "0264-1615",
        "language": "English",
        "delivery_method": "email",
        "contact_method": "email",
        "max_cost": "0",
        "urgency": "normal",
        "contact_name": "passing",
        "contact_postal_code": "000000",
        "contact_email": "reader-a@example.org",
        "contact_phone": "010-62780000",
    }
    data.update(overrides)
    return data


@pytest.fixture
def example():
    return worked_example
