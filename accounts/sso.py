"""Campus single sign-on: identity providers configured from the environment, and what the
gateway takes from the attributes they release.

Two environment variables hold JSON lists, one entry per identity provider:

`OIDC_PROVIDERS`: `[{"id": "campus", "label": "统一认证 Campus login", "server_url": "https://idp/",
"client_id": "...", "secret": "...", "scope": ["openid", "profile", "email"], "claims": {...}}]`

`SAML_PROVIDERS`: `[{"id": "carsi", "label": "CARSI", "idp_entity_id": "...", "idp_sso_url": "...",
"idp_x509cert": "...", "idp_metadata_url": "...", "sp_entity_id": "...", "attributes": {...}}]`

`claims` / `attributes` map our profile fields (name, email, campus_id, institution, phone)
onto the provider's claim or attribute names. CARSI-style providers often release only an
opaque persistent identifier: every mapping is optional, registration works with none.

This module is imported by the settings, so it must not import Django models at import time.
"""

import hashlib
import json
import re

# Claims most OpenID Connect providers use; an entry's "claims" overrides them one by one.
DEFAULT_OIDC_CLAIMS = {
    "name": ["name", "displayName"],
    "email": ["email"],
    "campus_id": ["student_id", "employee_number", "preferred_username"],
    "institution": ["department", "ou", "organization", "schac_home_organization"],
    "phone": ["phone_number"],
}

# Attribute names in the eduPerson schema as CARSI and Shibboleth federations release them.
DEFAULT_SAML_ATTRIBUTES = {
    "name": ["urn:oid:2.16.840.1.113730.3.1.241", "urn:oid:2.5.4.3", "displayName", "cn"],
    "email": ["urn:oid:0.9.2342.19200300.100.1.3", "mail", "email"],
    "campus_id": ["urn:oid:2.16.840.1.113730.3.1.3", "employeeNumber", "uid"],
    "institution": ["urn:oid:2.5.4.11", "ou", "urn:oid:1.3.6.1.4.1.5923.1.1.1.9"],
    "phone": ["urn:oid:2.5.4.20", "telephoneNumber"],
}

# The SAML uid: the subject identifiers of the SAML subject-id profile, else the (persistent)
# NameID. eduPersonTargetedID is left out on purpose: its SAML 2 value is itself a NameID
# element, which allauth cannot use as a uid; an IdP that releases it as the persistent NameID
# (as Shibboleth does) is covered by the NameID fallback.
SAML_UID_ATTRIBUTES = [
    "urn:oasis:names:tc:SAML:attribute:pairwise-id",
    "urn:oasis:names:tc:SAML:attribute:subject-id",
]


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
        attributes = _as_lists({**DEFAULT_SAML_ATTRIBUTES, **entry.get("attributes", {})})
        saml_apps.append(
            {
                # Each IdP is its own namespace of uids: SocialAccount.provider is the
                # provider_id, so the same NameID at two IdPs is two different people.
                "provider_id": entry["id"],
                "client_id": entry["id"],
                "name": entry.get("label") or entry["id"],
                "settings": {
                    "idp": idp,
                    "sp": {"entity_id": entry.get("sp_entity_id", "")},
                    # allauth keeps the uid and e-mail from this mapping; everything else the
                    # gateway reads from the raw attributes through `claims`.
                    "attribute_mapping": {
                        "uid": entry.get("uid_attributes", SAML_UID_ATTRIBUTES),
                        "email": attributes["email"],
                    },
                    "claims": attributes,
                    # python3-saml refuses any response without a valid signature by the
                    # configured certificate; these flags only say *which* part must be
                    # signed. Shibboleth (most CARSI members) signs the response by default.
                    "advanced": {
                        "strict": True,
                        "want_assertion_signed": entry.get("want_assertion_signed", False),
                        "want_message_signed": entry.get("want_message_signed", False),
                        # CARSI members may release nothing but the NameID.
                        "want_attribute_statement": False,
                        "allow_single_label_domains": entry.get(
                            "allow_single_label_domains", False
                        ),
                        "reject_idp_initiated_sso": entry.get("reject_idp_initiated_sso", True),
                    },
                },
            }
        )
    if saml_apps:
        providers["saml"] = {"APPS": saml_apps}
    _check_ids([a["provider_id"] for a in oidc_apps + saml_apps])
    return providers


# allauth looks a provider id up in its registry of provider classes before it looks for an
# app with that provider_id: an entry named like an installed provider would be taken for it.
RESERVED_IDS = frozenset({"saml", "openid_connect", "openid", "oauth2"})


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


def claims_to_profile(claims_map: dict[str, list[str]], data: dict) -> dict[str, str]:
    """Our profile fields from a provider's claims (OIDC) or attributes (SAML, lists of values)."""
    profile = {}
    for field, names in claims_map.items():
        for name in names:
            value = data.get(name)
            if isinstance(value, list | tuple):
                value = value[0] if value else None
            if isinstance(value, str) and value.strip():
                profile[field] = value.strip()
                break
    return profile


def _provider_claims_map(sociallogin) -> dict[str, list[str]]:
    app = sociallogin.provider.app
    claims = (app.settings or {}).get("claims")
    if claims:
        return claims
    return DEFAULT_SAML_ATTRIBUTES if is_saml(sociallogin) else DEFAULT_OIDC_CLAIMS


def is_saml(sociallogin) -> bool:
    """Whether the login came through a SAML IdP (its account's provider is the IdP's id)."""
    return sociallogin.provider.app.provider == "saml"


def _claims_data(sociallogin) -> dict:
    extra = sociallogin.account.extra_data or {}
    if is_saml(sociallogin):
        return extra
    # allauth keeps the ID token and the userinfo answer apart; userinfo wins where both speak.
    merged = {}
    for part in ("id_token", "userinfo"):
        if isinstance(extra.get(part), dict):
            merged.update(extra[part])
    return merged or extra


def profile_from_sociallogin(sociallogin) -> dict[str, str]:
    """What the identity provider released, as initial values of our registration form."""
    return claims_to_profile(_provider_claims_map(sociallogin), _claims_data(sociallogin))


def username_for(sociallogin) -> str:
    """A stable, opaque username for a campus identity (never shown, never typed)."""
    account = sociallogin.account
    provider_key = sociallogin.provider.app.provider_id or sociallogin.provider.app.client_id
    digest = hashlib.sha256(f"{account.provider}:{provider_key}:{account.uid}".encode()).hexdigest()
    return f"sso-{digest[:24]}"
