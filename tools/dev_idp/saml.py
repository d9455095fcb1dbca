"""A SAML 2.0 identity provider for tests, without a network.

CARSI and most campus federations speak SAML through Shibboleth. This module
plays that IdP in tests: it publishes metadata for the service provider to
trust, and builds signed ``<samlp:Response>`` messages for the test client to
POST to the gateway's assertion consumer service (ACS)::

    idp = TestSamlIdP()
    request = parse_authn_request(login_redirect_url)  # from the SP's redirect
    client.post(request.acs_url, {
        "SAMLResponse": idp.response(
            acs_url=request.acs_url,
            audience=sp_entity_id,
            in_response_to=request.id,
            name_id="opaque-persistent-id",
            attributes={EDU_PERSON_PRINCIPAL_NAME: "student@example.edu.cn"},
        ),
    })

Signing uses python3-saml's own ``OneLogin_Saml2_Utils.add_sign`` (xmlsec),
so what the SP verifies is produced by the same toolkit family it runs on.
``sign_with=generate_signing_key()`` signs with a key the metadata does not
advertise, to prove the SP refuses it.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import xmlsec
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from onelogin.saml2.constants import OneLogin_Saml2_Constants as Saml2
from onelogin.saml2.metadata import OneLogin_Saml2_Metadata
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

__all__ = [
    "DISPLAY_NAME",
    "EDU_PERSON_PRINCIPAL_NAME",
    "EDU_PERSON_SCOPED_AFFILIATION",
    "EDU_PERSON_TARGETED_ID",
    "MAIL",
    "NAMEID_PERSISTENT",
    "NAMEID_TRANSIENT",
    "AuthnRequest",
    "LogoutRequest",
    "NameID",
    "SigningKey",
    "TestSamlIdP",
    "federation_aggregate",
    "generate_signing_key",
    "parse_authn_request",
    "parse_logout_request",
    "verify_redirect_signature",
]

# Attribute names in the SAML 2 "urn:oid" form that Shibboleth/CARSI release.
EDU_PERSON_TARGETED_ID = "urn:oid:1.3.6.1.4.1.5923.1.1.1.10"
EDU_PERSON_PRINCIPAL_NAME = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
EDU_PERSON_SCOPED_AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.9"
MAIL = "urn:oid:0.9.2342.19200300.100.1.3"
DISPLAY_NAME = "urn:oid:2.16.840.1.113730.3.1.241"

_FRIENDLY_NAMES = {
    EDU_PERSON_TARGETED_ID: "eduPersonTargetedID",
    EDU_PERSON_PRINCIPAL_NAME: "eduPersonPrincipalName",
    EDU_PERSON_SCOPED_AFFILIATION: "eduPersonScopedAffiliation",
    MAIL: "mail",
    DISPLAY_NAME: "displayName",
}

NAMEID_PERSISTENT = Saml2.NAMEID_PERSISTENT
NAMEID_TRANSIENT = Saml2.NAMEID_TRANSIENT

DEFAULT_ENTITY_ID = "https://idp.example.edu.cn/idp/shibboleth"
DEFAULT_SSO_URL = "https://idp.example.edu.cn/idp/profile/SAML2/Redirect/SSO"

_NS_XS = "http://www.w3.org/2001/XMLSchema"
_NS_MDUI = "urn:oasis:names:tc:SAML:metadata:ui"
_NS_XML = "http://www.w3.org/XML/1998/namespace"
_NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_NSMAP = {"samlp": Saml2.NS_SAMLP, "saml": Saml2.NS_SAML, "xs": _NS_XS, "xsi": _NS_XSI}


def _q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


class SigningKey(NamedTuple):
    """An RSA private key and its self-signed certificate, both PEM."""

    private_key_pem: str
    certificate_pem: str

    @property
    def certificate_base64(self) -> str:
        """The certificate as bare base64 DER, as metadata and settings carry it."""
        cert = x509.load_pem_x509_certificate(self.certificate_pem.encode())
        return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def generate_signing_key(common_name: str = "Test SAML IdP") -> SigningKey:
    """Generate a fresh RSA-2048 key and a self-signed certificate (~0.1 s)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return SigningKey(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        cert.public_bytes(serialization.Encoding.PEM).decode(),
    )


@functools.cache
def _cached_signing_key(entity_id: str) -> SigningKey:
    # Key generation dominates the cost of a test; one key per entity ID per
    # process keeps a suite that builds many TestSamlIdP objects fast.
    return generate_signing_key(f"Test SAML IdP {entity_id}")


@dataclass(frozen=True)
class NameID:
    """A ``<saml:NameID>`` used as an attribute value.

    SAML 2 defines eduPersonTargetedID's value as a persistent NameID element,
    not a string; python3-saml then reports it as
    ``{"NameID": {"Format": ..., "NameQualifier": ..., "value": ...}}``.
    """

    value: str
    format: str = NAMEID_PERSISTENT
    name_qualifier: str | None = None
    sp_name_qualifier: str | None = None


AttributeValue = str | NameID


@dataclass(frozen=True)
class AuthnRequest:
    """The parts of an SP's ``<samlp:AuthnRequest>`` a test needs to answer it."""

    id: str
    issuer: str | None
    acs_url: str | None
    destination: str | None
    relay_state: str | None
    name_id_policy_format: str | None = None
    signed: bool = False  # carries a redirect-binding query signature (SigAlg, Signature)


def parse_authn_request(redirect_url: str) -> AuthnRequest:
    """Decode the AuthnRequest in an HTTP-Redirect binding URL.

    The SP only accepts a response whose ``InResponseTo`` matches a request it
    made, so tests follow the SP's login redirect and answer this ``id``.
    """
    query = parse_qs(urlsplit(redirect_url).query)
    if "SAMLRequest" not in query:
        raise ValueError("URL has no SAMLRequest parameter")
    xml = OneLogin_Saml2_Utils.decode_base64_and_inflate(query["SAMLRequest"][0])
    root = OneLogin_Saml2_XML.to_etree(xml)  # refuses DTDs and entities
    if root.tag != _q(Saml2.NS_SAMLP, "AuthnRequest"):
        raise ValueError(f"expected an AuthnRequest, got {root.tag}")
    issuer = root.find(_q(Saml2.NS_SAML, "Issuer"))
    policy = root.find(_q(Saml2.NS_SAMLP, "NameIDPolicy"))
    return AuthnRequest(
        id=root.get("ID"),
        issuer=issuer.text if issuer is not None else None,
        acs_url=root.get("AssertionConsumerServiceURL"),
        destination=root.get("Destination"),
        relay_state=query.get("RelayState", [None])[0],
        name_id_policy_format=policy.get("Format") if policy is not None else None,
        signed="Signature" in query and "SigAlg" in query,
    )


def verify_redirect_signature(redirect_url: str, certificate_pem: str) -> bool:
    """Whether an HTTP-Redirect binding URL carries a valid RSA-SHA256 query signature by the
    key of `certificate_pem` (how an IdP checks a signed AuthnRequest)."""
    query = urlsplit(redirect_url).query
    parts = dict(part.split("=", 1) for part in query.split("&"))
    if "Signature" not in parts:
        return False
    signed = "&".join(
        f"{name}={parts[name]}"
        for name in ("SAMLRequest", "SAMLResponse", "RelayState", "SigAlg")
        if name in parts
    )
    signature = base64.b64decode(unquote_plus(parts["Signature"]))
    public_key = x509.load_pem_x509_certificate(certificate_pem.encode()).public_key()
    try:
        public_key.verify(signature, signed.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class LogoutRequest:
    """The parts of an SP's ``<samlp:LogoutRequest>`` a test checks and answers."""

    id: str
    issuer: str | None
    name_id: str | None
    session_index: str | None
    destination: str | None
    relay_state: str | None


def parse_logout_request(redirect_url: str) -> LogoutRequest:
    """Decode the LogoutRequest in an HTTP-Redirect binding URL."""
    query = parse_qs(urlsplit(redirect_url).query)
    if "SAMLRequest" not in query:
        raise ValueError("URL has no SAMLRequest parameter")
    xml = OneLogin_Saml2_Utils.decode_base64_and_inflate(query["SAMLRequest"][0])
    root = OneLogin_Saml2_XML.to_etree(xml)
    if root.tag != _q(Saml2.NS_SAMLP, "LogoutRequest"):
        raise ValueError(f"expected a LogoutRequest, got {root.tag}")

    def text(namespace, tag):
        element = root.find(_q(namespace, tag))
        return element.text if element is not None else None

    return LogoutRequest(
        id=root.get("ID"),
        issuer=text(Saml2.NS_SAML, "Issuer"),
        name_id=text(Saml2.NS_SAML, "NameID"),
        session_index=text(Saml2.NS_SAMLP, "SessionIndex"),
        destination=root.get("Destination"),
        relay_state=query.get("RelayState", [None])[0],
    )


def _instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _new_id() -> str:
    # xs:ID values must be NCNames, which cannot start with a digit.
    return "_" + secrets.token_hex(20)


def _sub(parent: etree._Element, namespace: str, tag: str, text: str | None = None, **attrib: str):
    element = etree.SubElement(parent, _q(namespace, tag), attrib)
    if text is not None:
        element.text = text
    return element


def _sign(element: etree._Element, key: SigningKey) -> etree._Element:
    # add_sign puts the <ds:Signature> right after the *first* saml:Issuer in
    # the whole document and signs that Issuer's parent, so it can only sign
    # an Assertion that is the root of its own document (see _build).
    signed = OneLogin_Saml2_Utils.add_sign(
        element,
        key.private_key_pem,
        key.certificate_pem,
        sign_algorithm=Saml2.RSA_SHA256,
        digest_algorithm=Saml2.SHA256,
    )
    return OneLogin_Saml2_XML.to_etree(signed)


def _encrypt(element: etree._Element, certificate_pem: str) -> None:
    """Replace `element` (in its tree) by its xmlenc encryption to `certificate_pem`:
    AES-128-CBC for the data, its key RSA-OAEP-encrypted to the certificate."""
    template = xmlsec.template.encrypted_data_create(
        element, xmlsec.Transform.AES128, type=xmlsec.EncryptionType.ELEMENT, ns="xenc"
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(template)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(template, ns="dsig")
    encrypted_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.Transform.RSA_OAEP)
    xmlsec.template.encrypted_data_ensure_cipher_value(encrypted_key)
    manager = xmlsec.KeysManager()
    manager.add_key(xmlsec.Key.from_memory(certificate_pem, xmlsec.KeyFormat.CERT_PEM, None))
    context = xmlsec.EncryptionContext(manager)
    context.key = xmlsec.Key.generate(xmlsec.KeyData.AES, 128, xmlsec.KeyDataType.SESSION)
    context.encrypt_xml(template, element)


def federation_aggregate(
    idps: Sequence[TestSamlIdP],
    signing_key: SigningKey | None,
    *,
    valid_until: dt.datetime | None = None,
    name: str = "https://fed.example.edu.cn",
) -> str:
    """A federation's metadata aggregate (``<md:EntitiesDescriptor>``) of `idps`, signed
    with `signing_key` as a federation signs it (``None``: unsigned)."""
    md = Saml2.NS_MD
    root = etree.Element(
        _q(md, "EntitiesDescriptor"),
        {"ID": _new_id(), "Name": name},
        nsmap={"md": md, "ds": Saml2.NS_DS, "mdui": _NS_MDUI},
    )
    if valid_until is not None:
        root.set("validUntil", _instant(valid_until))
    for idp in idps:
        root.append(idp.metadata_element())
    xml = etree.tostring(root, encoding="unicode")
    if signing_key is None:
        return xml
    signed = OneLogin_Saml2_Metadata.sign_metadata(
        xml,
        signing_key.private_key_pem,
        signing_key.certificate_pem,
        sign_algorithm=Saml2.RSA_SHA256,
        digest_algorithm=Saml2.SHA256,
    )
    return signed.decode() if isinstance(signed, bytes) else signed


class TestSamlIdP:
    """A SAML 2.0 IdP that signs whatever assertion a test asks for.

    By default the signing key is generated once per ``entity_id`` and reused
    for the rest of the process; pass ``signing_key`` to choose one.
    """

    __test__ = False  # the name starts with "Test"; keep pytest from collecting it

    def __init__(
        self,
        entity_id: str = DEFAULT_ENTITY_ID,
        sso_url: str = DEFAULT_SSO_URL,
        *,
        signing_key: SigningKey | None = None,
        slo_url: str | None = None,
        display_names: Mapping[str, str] | None = None,
    ) -> None:
        self.entity_id = entity_id
        self.sso_url = sso_url
        self.slo_url = slo_url
        # mdui:DisplayName by language ("zh", "en"), as federations publish them.
        self.display_names = dict(display_names or {})
        self.signing_key = signing_key or _cached_signing_key(entity_id)

    @property
    def certificate_pem(self) -> str:
        return self.signing_key.certificate_pem

    # -- configuring the SP ------------------------------------------------

    def metadata_xml(self) -> str:
        """IdP metadata: entity ID, redirect-binding SSO URL and signing cert."""
        return etree.tostring(self.metadata_element(), encoding="unicode")

    def metadata_element(self) -> etree._Element:
        md, ds = Saml2.NS_MD, Saml2.NS_DS
        root = etree.Element(
            _q(md, "EntityDescriptor"), {"entityID": self.entity_id}, nsmap={"md": md, "ds": ds}
        )
        idp = _sub(
            root,
            md,
            "IDPSSODescriptor",
            protocolSupportEnumeration=Saml2.NS_SAMLP,
            WantAuthnRequestsSigned="false",
        )
        if self.display_names:
            ui = etree.SubElement(
                _sub(idp, md, "Extensions"), _q(_NS_MDUI, "UIInfo"), nsmap={"mdui": _NS_MDUI}
            )
            for lang, name in self.display_names.items():
                _sub(ui, _NS_MDUI, "DisplayName", name).set(_q(_NS_XML, "lang"), lang)
        # Schema order matters: Extensions, KeyDescriptor, NameIDFormat, SingleSignOnService.
        key_info = _sub(_sub(idp, md, "KeyDescriptor", use="signing"), ds, "KeyInfo")
        _sub(
            _sub(key_info, ds, "X509Data"),
            ds,
            "X509Certificate",
            self.signing_key.certificate_base64,
        )
        if self.slo_url:
            _sub(
                idp,
                md,
                "SingleLogoutService",
                Binding=Saml2.BINDING_HTTP_REDIRECT,
                Location=self.slo_url,
            )
        _sub(idp, md, "NameIDFormat", NAMEID_PERSISTENT)
        _sub(idp, md, "NameIDFormat", NAMEID_TRANSIENT)
        _sub(
            idp,
            md,
            "SingleSignOnService",
            Binding=Saml2.BINDING_HTTP_REDIRECT,
            Location=self.sso_url,
        )
        return root

    def idp_settings(self) -> dict[str, Any]:
        """The ``idp`` section of python3-saml settings for this IdP."""
        return {
            "entityId": self.entity_id,
            "singleSignOnService": {"url": self.sso_url, "binding": Saml2.BINDING_HTTP_REDIRECT},
            "x509cert": self.signing_key.certificate_base64,
        }

    def allauth_idp_settings(self) -> dict[str, str]:
        """The ``idp`` entry of an allauth SAML ``SocialApp.settings``."""
        return {
            "entity_id": self.entity_id,
            "sso_url": self.sso_url,
            "x509cert": self.signing_key.certificate_base64,
        }

    # -- single logout -----------------------------------------------------

    def logout_response_url(
        self, request: LogoutRequest, sls_url: str, *, sign: bool = True
    ) -> str:
        """The IdP's answer to `request` (it ended its session), as an HTTP-Redirect URL to the
        SP's single logout service, signed as the redirect binding signs (query signature)."""
        samlp, saml = Saml2.NS_SAMLP, Saml2.NS_SAML
        response = etree.Element(
            _q(samlp, "LogoutResponse"),
            {
                "ID": _new_id(),
                "Version": "2.0",
                "IssueInstant": _instant(dt.datetime.now(dt.UTC)),
                "Destination": sls_url,
                "InResponseTo": request.id,
            },
            nsmap={"samlp": samlp, "saml": saml},
        )
        _sub(response, saml, "Issuer", self.entity_id)
        _sub(_sub(response, samlp, "Status"), samlp, "StatusCode", Value=Saml2.STATUS_SUCCESS)
        encoded = OneLogin_Saml2_Utils.deflate_and_base64_encode(
            etree.tostring(response, encoding="unicode")
        )
        params = [("SAMLResponse", encoded)]
        if request.relay_state is not None:
            params.append(("RelayState", request.relay_state))
        if not sign:
            return f"{sls_url}?{urlencode(params)}"
        params.append(("SigAlg", Saml2.RSA_SHA256))
        signed_part = urlencode(params)
        key = serialization.load_pem_private_key(
            self.signing_key.private_key_pem.encode(), password=None
        )
        signature = key.sign(signed_part.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{sls_url}?{signed_part}&{urlencode({'Signature': base64.b64encode(signature)})}"

    # -- answering the SP --------------------------------------------------

    def response(self, **kwargs: Any) -> str:
        """``response_xml(**kwargs)``, base64-encoded as the ``SAMLResponse`` form field."""
        return base64.b64encode(self.response_xml(**kwargs).encode("utf-8")).decode("ascii")

    def response_xml(
        self,
        *,
        acs_url: str,
        audience: str,
        name_id: str,
        in_response_to: str | None = None,
        attributes: Mapping[str, AttributeValue | Sequence[AttributeValue]] | None = None,
        name_id_format: str = NAMEID_PERSISTENT,
        sign: Literal["assertion", "response", "both", "none"] = "both",
        sign_with: SigningKey | None = None,
        issued_at: dt.datetime | None = None,
        lifetime: dt.timedelta = dt.timedelta(minutes=5),
        encrypt_for: str | None = None,
    ) -> str:
        """Build a successful ``<samlp:Response>`` with one assertion.

        ``acs_url`` becomes the Destination and the bearer Recipient;
        ``audience`` is the SP entity ID; ``in_response_to`` the AuthnRequest
        ID (``None`` for an unsolicited, IdP-initiated response).

        ``attributes`` maps attribute names (use the module constants) to a
        value or a list of values; a :class:`NameID` value is emitted as a
        nested ``<saml:NameID>``, as eduPersonTargetedID is.

        ``sign`` picks what carries a signature. Shibboleth, and so most
        CARSI IdPs, by default sign only the response; "both" satisfies any
        SP configuration. ``sign_with`` signs with another key than the one
        in the metadata. ``issued_at``/``lifetime`` let a test send a stale
        response.
        """
        if sign not in ("assertion", "response", "both", "none"):
            raise ValueError(f"unknown sign mode {sign!r}")
        now = issued_at or dt.datetime.now(dt.UTC)
        expires = _instant(now + lifetime)
        saml, samlp = Saml2.NS_SAML, Saml2.NS_SAMLP
        key = sign_with or self.signing_key

        response = etree.Element(
            _q(samlp, "Response"),
            {
                "ID": _new_id(),
                "Version": "2.0",
                "IssueInstant": _instant(now),
                "Destination": acs_url,
            },
            nsmap=_NSMAP,
        )
        if in_response_to:
            response.set("InResponseTo", in_response_to)
        _sub(response, saml, "Issuer", self.entity_id)
        status = _sub(response, samlp, "Status")
        _sub(status, samlp, "StatusCode", Value=Saml2.STATUS_SUCCESS)

        assertion = self._assertion(
            now=now,
            expires=expires,
            acs_url=acs_url,
            audience=audience,
            name_id=name_id,
            name_id_format=name_id_format,
            in_response_to=in_response_to,
            attributes=attributes or {},
        )
        if sign in ("assertion", "both"):
            assertion = _sign(assertion, key)
        if encrypt_for:
            # As Shibboleth does by default: the assertion encrypted to the SP's certificate.
            wrapper = _sub(response, saml, "EncryptedAssertion")
            wrapper.append(assertion)
            _encrypt(assertion, encrypt_for)
        else:
            response.append(assertion)
        if sign in ("response", "both"):
            response = _sign(response, key)
        return etree.tostring(response, encoding="unicode")

    def _assertion(
        self,
        *,
        now: dt.datetime,
        expires: str,
        acs_url: str,
        audience: str,
        name_id: str,
        name_id_format: str,
        in_response_to: str | None,
        attributes: Mapping[str, AttributeValue | Sequence[AttributeValue]],
    ) -> etree._Element:
        saml = Saml2.NS_SAML
        # Built as the root of its own document so that it can be signed
        # on its own before it is placed in the Response (see _sign).
        assertion = etree.Element(
            _q(saml, "Assertion"),
            {"ID": _new_id(), "Version": "2.0", "IssueInstant": _instant(now)},
            nsmap={"saml": saml, "xs": _NS_XS, "xsi": _NS_XSI},
        )
        _sub(assertion, saml, "Issuer", self.entity_id)

        subject = _sub(assertion, saml, "Subject")
        _sub(
            subject,
            saml,
            "NameID",
            name_id,
            Format=name_id_format,
            NameQualifier=self.entity_id,
            SPNameQualifier=audience,
        )
        confirmation = _sub(subject, saml, "SubjectConfirmation", Method=Saml2.CM_BEARER)
        data = _sub(
            confirmation, saml, "SubjectConfirmationData", NotOnOrAfter=expires, Recipient=acs_url
        )
        if in_response_to:
            data.set("InResponseTo", in_response_to)

        conditions = _sub(
            assertion,
            saml,
            "Conditions",
            # A little slack for the SP's clock being behind ours.
            NotBefore=_instant(now - dt.timedelta(seconds=30)),
            NotOnOrAfter=expires,
        )
        _sub(_sub(conditions, saml, "AudienceRestriction"), saml, "Audience", audience)

        authn = _sub(
            assertion, saml, "AuthnStatement", AuthnInstant=_instant(now), SessionIndex=_new_id()
        )
        _sub(
            _sub(authn, saml, "AuthnContext"),
            saml,
            "AuthnContextClassRef",
            Saml2.AC_PASSWORD_PROTECTED,
        )

        # The schema requires at least one Attribute in an AttributeStatement.
        if attributes:
            statement = _sub(assertion, saml, "AttributeStatement")
            for name, values in attributes.items():
                self._attribute(statement, name, values)
        return assertion

    @staticmethod
    def _attribute(
        statement: etree._Element, name: str, values: AttributeValue | Sequence[AttributeValue]
    ) -> None:
        saml = Saml2.NS_SAML
        attribute = _sub(
            statement,
            saml,
            "Attribute",
            Name=name,
            NameFormat=Saml2.ATTRNAME_FORMAT_URI
            if name.startswith("urn:")
            else Saml2.ATTRNAME_FORMAT_BASIC,
        )
        if name in _FRIENDLY_NAMES:
            attribute.set("FriendlyName", _FRIENDLY_NAMES[name])
        for value in [values] if isinstance(values, str | NameID) else values:
            element = _sub(attribute, saml, "AttributeValue")
            if isinstance(value, NameID):
                nested = _sub(element, saml, "NameID", value.value, Format=value.format)
                if value.name_qualifier:
                    nested.set("NameQualifier", value.name_qualifier)
                if value.sp_name_qualifier:
                    nested.set("SPNameQualifier", value.sp_name_qualifier)
            else:
                element.set(_q(_NS_XSI, "type"), "xs:string")
                element.text = value
