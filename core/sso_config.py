"""Campus single sign-on as configured: the identity providers named in the environment, turned
into allauth's SOCIALACCOUNT_PROVIDERS, and the attribute names the gateway reads.

Two environment variables hold JSON lists, one entry per identity provider:

`OIDC_PROVIDERS`: `[{"id": "campus", "label": "统一认证 Campus login", "server_url": "https://idp/",
"client_id": "...", "secret": "...", "scope": ["openid", "profile", "email"], "claims": {...}}]`

`SAML_PROVIDERS`: `[{"id": "carsi", "label": "CARSI", "idp_entity_id": "...", "idp_sso_url": "...",
"idp_x509cert": "...", "idp_metadata_url": "...", "sp_entity_id": "...", "attributes": {...}}]`

`claims` / `attributes` map our profile fields (name, email, campus_id, institution, phone)
onto the provider's claim or attribute names. CARSI-style providers often release only an
opaque persistent identifier: every mapping is optional, registration works with none.

The settings read it (`illgateway/settings.py`), so it sits in the bottom package and imports
neither an app nor Django's models. What the gateway does with a login is `accounts/sso.py`.
"""

import json
import re

# Claims most OpenID Connect providers use; an entry's "claims" overrides them one by one.
DEFAULT_OIDC_CLAIMS = {
    "name": ["name", "displayName"],
    "email": ["email"],
    "campus_id": ["student_id", "employee_number", "preferred_username"],
    "institution": ["department", "ou", "organization", "schac_home_organization"],
    "phone": ["phone_number"],
    "affiliation": ["eduperson_scoped_affiliation", "eduperson_affiliation"],
}

EDU_PERSON_PRINCIPAL_NAME = "urn:oid:1.3.6.1.4.1.5923.1.1.1.6"
EDU_PERSON_TARGETED_ID = "urn:oid:1.3.6.1.4.1.5923.1.1.1.10"
EDU_PERSON_SCOPED_AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.9"
EDU_PERSON_AFFILIATION = "urn:oid:1.3.6.1.4.1.5923.1.1.1.1"

# Attribute names in the eduPerson schema as CARSI and Shibboleth federations release them.
DEFAULT_SAML_ATTRIBUTES = {
    "name": ["urn:oid:2.16.840.1.113730.3.1.241", "urn:oid:2.5.4.3", "displayName", "cn"],
    "email": ["urn:oid:0.9.2342.19200300.100.1.3", "mail", "email"],
    # A campus number where one is released, else eduPersonPrincipalName (user@scope).
    "campus_id": [
        "urn:oid:2.16.840.1.113730.3.1.3",
        "employeeNumber",
        "uid",
        EDU_PERSON_PRINCIPAL_NAME,
        "eduPersonPrincipalName",
    ],
    # The department (ou), else the organisation (o, schacHomeOrganization); else the IdP's
    # name (see profile_from_sociallogin). Never eduPersonScopedAffiliation: it is a role.
    "institution": [
        "urn:oid:2.5.4.11",
        "ou",
        "urn:oid:2.5.4.10",
        "o",
        "urn:oid:1.3.6.1.4.1.25178.1.2.9",
        "schacHomeOrganization",
    ],
    "phone": ["urn:oid:2.5.4.20", "telephoneNumber"],
    # student, faculty, staff, member...: shown to the ILL office when confirming.
    "affiliation": [
        EDU_PERSON_SCOPED_AFFILIATION,
        "eduPersonScopedAffiliation",
        EDU_PERSON_AFFILIATION,
        "eduPersonAffiliation",
    ],
}

# The SAML uid, in this order: the subject identifiers of the SAML subject-id profile; the
# NameID if it is persistent (or of the entry's own non-transient name_id_format);
# eduPersonTargetedID (a NameID-valued attribute, see accounts/saml/provider.py). A transient
# NameID is never a uid: it changes at every login.
SAML_UID_ATTRIBUTES = [
    "urn:oasis:names:tc:SAML:attribute:pairwise-id",
    "urn:oasis:names:tc:SAML:attribute:subject-id",
]
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
NAMEID_TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"

# How long an IdP may rely on the SP metadata it fetched (validUntil), and how often it should
# fetch it again (cacheDuration). python3-saml's default validUntil is two days away.
SP_METADATA_VALID_DAYS = 365
SP_METADATA_CACHE_SECONDS = 24 * 60 * 60


class SSOConfigurationError(ValueError):
    pass


def _load(name: str, raw: str | None) -> list[dict]:
    if not raw or not raw.strip():
        return []
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SSOConfigurationError(f"{name} is not valid JSON: {exc}") from exc
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SSOConfigurationError(f"{name} must be a JSON list of objects")
    return entries


def _require(name: str, entry: dict, *keys: str) -> None:
    missing = [k for k in keys if not entry.get(k)]
    if missing:
        raise SSOConfigurationError(
            f"{name} entry {entry.get('id', '?')!r} lacks: {', '.join(missing)}"
        )


def _as_lists(mapping: dict) -> dict[str, list[str]]:
    return {k: [v] if isinstance(v, str) else list(v) for k, v in mapping.items()}


def providers_from_env(oidc_raw: str | None, saml_raw: str | None) -> dict:
    """allauth's SOCIALACCOUNT_PROVIDERS for the identity providers named in the environment."""
    providers: dict = {}
    oidc_apps = []
    for entry in _load("OIDC_PROVIDERS", oidc_raw):
        _require("OIDC_PROVIDERS", entry, "id", "server_url", "client_id")
        oidc_apps.append(
            {
                "provider_id": entry["id"],
                "name": entry.get("label") or entry["id"],
                "client_id": entry["client_id"],
                "secret": entry.get("secret", ""),
                "settings": {
                    # The issuer; allauth appends /.well-known/openid-configuration to it.
                    "server_url": entry["server_url"].rstrip("/"),
                    "token_auth_method": entry.get("token_auth_method", "client_secret_post"),
                    "oauth_pkce_enabled": entry.get("pkce", True),
                    "scope": entry.get("scope", ["openid", "profile", "email"]),
                    "fetch_userinfo": entry.get("fetch_userinfo", True),
                    "claims": _as_lists({**DEFAULT_OIDC_CLAIMS, **entry.get("claims", {})}),
                },
            }
        )
    if oidc_apps:
        providers["openid_connect"] = {"APPS": oidc_apps, "OAUTH_PKCE_ENABLED": True}

    saml_apps = []
    for entry in _load("SAML_PROVIDERS", saml_raw):
        _require("SAML_PROVIDERS", entry, "id")
        if entry.get("idp_metadata_url"):
            idp = {
                "entity_id": entry.get("idp_entity_id", ""),
                "metadata_url": entry["idp_metadata_url"],
            }
        else:
            _require("SAML_PROVIDERS", entry, "idp_entity_id", "idp_sso_url", "idp_x509cert")
            idp = {
                "entity_id": entry["idp_entity_id"],
                "sso_url": entry["idp_sso_url"],
                "x509cert": entry["idp_x509cert"],
            }
            if entry.get("idp_slo_url"):
                # Single logout: logging out of the gateway also ends the campus session.
                idp["slo_url"] = entry["idp_slo_url"]
        saml_apps.append(
            {
                # Each IdP is its own namespace of uids: SocialAccount.provider is the
                # provider_id, so the same NameID at two IdPs is two different people.
                "provider_id": entry["id"],
                "client_id": entry["id"],
                "name": entry.get("label") or entry["id"],
                "settings": {"idp": idp, **saml_sp_settings(entry)},
            }
        )
    if saml_apps:
        providers["saml"] = {"APPS": saml_apps}
    _check_ids([a["provider_id"] for a in oidc_apps + saml_apps])
    return providers


def saml_sp_settings(entry: dict) -> dict:
    """The gateway's side of a SAML app's settings (all but `idp`), from an entry of
    SAML_PROVIDERS or from SAML_FEDERATION."""
    attributes = _as_lists({**DEFAULT_SAML_ATTRIBUTES, **entry.get("attributes", {})})
    sp_cert, sp_key = _sp_key_pair(entry)
    if entry.get("want_assertion_encrypted") and not sp_key:
        raise SSOConfigurationError(
            f"SAML entry {entry.get('id')!r}: want_assertion_encrypted needs the SP key pair "
            "(sp_x509cert and sp_private_key) to decrypt with"
        )
    return {
        "sp": {"entity_id": entry.get("sp_entity_id", "")},
        # allauth keeps the uid and e-mail from this mapping; everything else the gateway
        # reads from the raw attributes through `claims`.
        "attribute_mapping": {
            "uid": entry.get("uid_attributes", SAML_UID_ATTRIBUTES),
            "email": attributes["email"],
        },
        "claims": attributes,
        # python3-saml refuses any response without a valid signature by the configured
        # certificate; these flags only say *which* part must be signed. Shibboleth (most
        # CARSI members) signs the response by default.
        "advanced": {
            "strict": True,
            "want_assertion_signed": entry.get("want_assertion_signed", False),
            "want_message_signed": entry.get("want_message_signed", False),
            # CARSI members may release nothing but the NameID.
            "want_attribute_statement": False,
            "allow_single_label_domains": entry.get("allow_single_label_domains", False),
            "reject_idp_initiated_sso": entry.get("reject_idp_initiated_sso", True),
            # Asked for in the AuthnRequest's NameIDPolicy and the SP metadata.
            "name_id_format": entry.get("name_id_format", NAMEID_PERSISTENT),
            # The SP's own key pair: decrypts encrypted assertions (Shibboleth's default) and
            # signs AuthnRequests and LogoutRequests.
            "x509cert": sp_cert,
            "private_key": sp_key,
            "authn_request_signed": entry.get("sign_authn_requests", bool(sp_key)),
            "logout_request_signed": bool(sp_key),
            "want_assertion_encrypted": entry.get("want_assertion_encrypted", False),
            "metadata_valid_days": entry.get("metadata_valid_days", SP_METADATA_VALID_DAYS),
            "metadata_cache_duration": SP_METADATA_CACHE_SECONDS,
        },
    }


# The URL slug of the SP endpoints shared by all IdPs of a federation (one ACS, one SP entity).
FEDERATION_SLUG = "federation"


def federation_from_env(raw: str | None) -> dict:
    """SAML_FEDERATION: the gateway's side of the SAML apps that `manage.py sync_federation`
    keeps in the database (a JSON object with the keys of a SAML_PROVIDERS entry but the
    idp_* ones). Kept out of the database so that the SP's private key never is in it."""
    if not raw or not raw.strip():
        return saml_sp_settings({"id": FEDERATION_SLUG})
    try:
        entry = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SSOConfigurationError(f"SAML_FEDERATION is not valid JSON: {exc}") from exc
    if not isinstance(entry, dict):
        raise SSOConfigurationError("SAML_FEDERATION must be a JSON object")
    return saml_sp_settings({**entry, "id": FEDERATION_SLUG})


def _read_pem(entry: dict, key: str) -> str | None:
    """`key` from the entry itself, or from the file named by `key`_file."""
    if entry.get(key):
        return entry[key]
    path = entry.get(f"{key}_file")
    if not path:
        return None
    try:
        with open(path, encoding="ascii") as pem:
            return pem.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise SSOConfigurationError(
            f"SAML_PROVIDERS entry {entry.get('id')!r}: {key}_file {path!r} cannot be read: {exc}"
        ) from exc


def _sp_key_pair(entry: dict) -> tuple[str | None, str | None]:
    """The SP's certificate and private key (PEM), checked to belong together."""
    cert, key = _read_pem(entry, "sp_x509cert"), _read_pem(entry, "sp_private_key")
    if not cert and not key:
        return None, None
    name = f"SAML_PROVIDERS entry {entry.get('id')!r}"
    if not cert or not key:
        raise SSOConfigurationError(f"{name}: sp_x509cert and sp_private_key go together")
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        body = cert if "-----BEGIN" in cert else _pem_wrap(cert)
        certificate = x509.load_pem_x509_certificate(body.encode())
    except ValueError as exc:
        raise SSOConfigurationError(f"{name}: sp_x509cert is not a certificate: {exc}") from exc
    try:
        private_key = serialization.load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise SSOConfigurationError(
            f"{name}: sp_private_key is not an unencrypted PEM private key: {exc}"
        ) from exc
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    encoding = serialization.Encoding.PEM
    if private_key.public_key().public_bytes(
        encoding, public
    ) != certificate.public_key().public_bytes(encoding, public):
        raise SSOConfigurationError(f"{name}: sp_private_key does not belong to sp_x509cert")
    return body, key


def _pem_wrap(base64_der: str) -> str:
    lines = re.sub(r"\s+", "", base64_der)
    chunks = "\n".join(lines[i : i + 64] for i in range(0, len(lines), 64))
    return f"-----BEGIN CERTIFICATE-----\n{chunks}\n-----END CERTIFICATE-----\n"


# allauth looks a provider id up in its registry of provider classes before it looks for an
# app with that provider_id: an entry named like an installed provider would be taken for it.
RESERVED_IDS = frozenset({"saml", "openid_connect", "openid", "oauth2", FEDERATION_SLUG})


def _check_ids(ids: list[str]) -> None:
    seen = set()
    for provider_id in ids:
        if provider_id in RESERVED_IDS:
            raise SSOConfigurationError(
                f"identity provider id {provider_id!r} is reserved; choose another id"
            )
        if not isinstance(provider_id, str) or not re.fullmatch(r"[A-Za-z0-9._-]+", provider_id):
            raise SSOConfigurationError(
                f"identity provider id {provider_id!r} may contain only letters, digits, . - _"
            )
        if provider_id in seen:
            raise SSOConfigurationError(
                f"identity provider id {provider_id!r} is used twice "
                "(OIDC_PROVIDERS and SAML_PROVIDERS ids must all differ)"
            )
        seen.add(provider_id)
