"""A federation's signed metadata aggregate (CARSI, eduGAIN...) as SAML identity providers.

`read_aggregate` verifies the aggregate's signature against the federation's certificate with
python3-saml's own check (xmlsec), refuses an unsigned, expired or wrongly signed one, and
returns the identity providers in it. `sync` keeps one database SocialApp per IdP: created or
updated, and disabled (never deleted) when the IdP has left, so its readers keep their
accounts. The gateway's side of these apps comes from SAML_FEDERATION (accounts/sso.py).
"""

import datetime as dt
import hashlib
import re
import urllib.parse
from dataclasses import dataclass

from allauth.socialaccount.models import SocialApp
from django.db import transaction
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Saml2
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

MD = Saml2.NS_MD
DS = Saml2.NS_DS
MDUI = "urn:oasis:names:tc:SAML:metadata:ui"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
NAME_MAX = 40  # SocialApp.name


class FederationMetadataError(Exception):
    """The aggregate is not to be trusted; nothing was changed."""


@dataclass(frozen=True)
class FederationIdP:
    entity_id: str
    names: dict  # {"zh": ..., "en": ...}
    idp_config: dict  # python3-saml's `idp` settings

    @property
    def slug(self) -> str:
        """Stable per entity ID, readable in logs: host name plus a short hash."""
        host = urllib.parse.urlsplit(self.entity_id).hostname or ""
        host = re.sub(r"[^A-Za-z0-9.-]", "-", host)[:60] or "idp"
        digest = hashlib.sha256(self.entity_id.encode()).hexdigest()[:8]
        return f"{host}-{digest}"


def _verify(xml: bytes, certificate_pem: str, now: dt.datetime) -> etree._Element:
    try:
        root = OneLogin_Saml2_XML.to_etree(xml)  # refuses DTDs and entities
    except Exception as exc:
        raise FederationMetadataError(f"not XML: {exc}") from exc
    if root.tag != f"{{{MD}}}EntitiesDescriptor":
        raise FederationMetadataError(f"not a metadata aggregate (root {root.tag})")
    signatures = root.findall(f"{{{DS}}}Signature")
    if len(signatures) != 1:
        raise FederationMetadataError("the aggregate is not signed (no signature on its root)")
    # The one signature must cover the whole aggregate, not some element inside it
    # (signature wrapping): its only Reference is the root.
    references = signatures[0].findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    root_id = root.get("ID")
    if len(references) != 1 or references[0].get("URI") not in ("", f"#{root_id}"):
        raise FederationMetadataError("the signature does not cover the whole aggregate")
    try:
        valid = OneLogin_Saml2_Utils.validate_metadata_sign(
            etree.tostring(root), certificate_pem, raise_exceptions=True
        )
    except Exception as exc:
        raise FederationMetadataError(f"signature not valid: {exc}") from exc
    if not valid:
        raise FederationMetadataError("signature not valid")
    valid_until = root.get("validUntil")
    if valid_until:
        try:
            expires = OneLogin_Saml2_Utils.parse_SAML_to_time(valid_until)
        except ValueError as exc:
            raise FederationMetadataError(f"validUntil {valid_until!r} not a date") from exc
        if expires <= now.timestamp():
            raise FederationMetadataError(f"the aggregate expired (validUntil {valid_until})")
    return root


def _names(entity: etree._Element) -> dict:
    names = {}
    for element in entity.iterfind(f".//{{{MD}}}IDPSSODescriptor//{{{MDUI}}}DisplayName"):
        lang = (element.get(XML_LANG) or "").lower()
        code = "zh" if lang.startswith("zh") else "en" if lang.startswith("en") else None
        text = (element.text or "").strip()
        if code and text and code not in names:
            names[code] = text
    if not names:
        for element in entity.iterfind(f"{{{MD}}}Organization/{{{MD}}}OrganizationDisplayName"):
            lang = (element.get(XML_LANG) or "").lower()
            code = "zh" if lang.startswith("zh") else "en"
            if (element.text or "").strip() and code not in names:
                names[code] = element.text.strip()
    return names


def read_aggregate(
    xml: bytes, certificate_pem: str, now: dt.datetime | None = None
) -> list[FederationIdP]:
    """The SAML 2 identity providers of a verified aggregate."""
    root = _verify(xml, certificate_pem, now or dt.datetime.now(dt.UTC))
    idps = []
    seen = set()
    for entity in root.iter(f"{{{MD}}}EntityDescriptor"):
        if entity.find(f"{{{MD}}}IDPSSODescriptor") is None:
            continue  # a service provider
        entity_id = entity.get("entityID")
        if not entity_id or entity_id in seen:
            continue  # the first description of an entity counts
        seen.add(entity_id)
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(
            etree.tostring(entity), entity_id=entity_id
        ).get("idp")
        if not parsed or not parsed.get("singleSignOnService", {}).get("url"):
            continue  # no SAML 2 single sign-on for browsers
        if not parsed.get("x509cert") and not parsed.get("x509certMulti"):
            continue  # nothing to verify its responses with
        names = _names(entity) or {"en": entity_id}
        idps.append(FederationIdP(entity_id=entity_id, names=names, idp_config=parsed))
    return idps


@dataclass
class SyncResult:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    disabled: int = 0


@transaction.atomic
def sync(federation: str, idps: list[FederationIdP]) -> SyncResult:
    """Make the database's SAML apps of `federation` those of `idps`. Safe to rerun."""
    result = SyncResult()
    existing = {
        app.settings["idp"]["entity_id"]: app
        for app in SocialApp.objects.select_for_update().filter(provider="saml")
        if (app.settings or {}).get("federation") == federation
    }
    for idp in idps:
        settings = {
            "federation": federation,
            "idp": {"entity_id": idp.entity_id},
            "idp_config": idp.idp_config,
            "names": idp.names,
        }
        name = (idp.names.get("zh") or idp.names.get("en") or idp.entity_id)[:NAME_MAX]
        app = existing.pop(idp.entity_id, None)
        if app is None:
            SocialApp.objects.create(
                provider="saml",
                provider_id=idp.slug,
                client_id=idp.slug,
                name=name,
                settings=settings,
            )
            result.added += 1
        elif app.settings == settings and app.name == name:
            result.unchanged += 1
        else:
            app.settings, app.name = settings, name
            app.save(update_fields=["settings", "name"])
            result.updated += 1
    for app in existing.values():
        if not app.settings.get("disabled"):
            # Left the federation: no more logins, but its readers keep their accounts.
            app.settings = {**app.settings, "disabled": True, "hidden": True}
            app.save(update_fields=["settings"])
            result.disabled += 1
    return result
