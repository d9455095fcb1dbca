"""python3-saml settings of one SAML identity provider, without ever failing on the network.

allauth builds them from the SocialApp's settings, but fetches an `idp_metadata_url` itself and
fails with a traceback when the IdP's metadata cannot be fetched. Here the last metadata read
successfully is kept (without expiry) and used when a later fetch fails; without any copy the
error is an `IdPUnavailable` that the views turn into the "unavailable" page.
"""

import logging

from allauth.socialaccount.providers.saml import utils as allauth_saml
from django.core.cache import cache
from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

from core.sso_config import FEDERATION_SLUG

logger = logging.getLogger("accounts.sso")

FRESH_SECONDS = 4 * 60 * 60


class IdPUnavailable(Exception):
    """The identity provider's metadata cannot be had; the message says why, for IT."""


def _cache_keys(idp: dict) -> tuple[str, str]:
    base = f"sso.saml.metadata:{idp['metadata_url']}:{idp.get('entity_id', '')}"
    return base + ":fresh", base + ":last-good"


def idp_from_metadata(idp: dict) -> dict:
    """The `idp` section of python3-saml settings, from the IdP's published metadata."""
    fresh_key, last_good_key = _cache_keys(idp)
    config = cache.get(fresh_key)
    if config is not None:
        return config
    url = idp["metadata_url"]
    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse_remote(
            url,
            entity_id=idp.get("entity_id") or None,
            timeout=idp.get("metadata_request_timeout", 10),
        )
        config = parsed.get("idp")
        if not config or not config.get("singleSignOnService", {}).get("url"):
            raise ValueError(
                f"no IdP entity {idp.get('entity_id') or ''!r} with a SingleSignOnService in it"
            )
    except Exception as exc:  # urllib errors, invalid XML, wrong entity: all "cannot be had"
        reason = f"IdP metadata {url} could not be read: {exc}"
        config = cache.get(last_good_key)
        if config is None:
            raise IdPUnavailable(reason + " (and no earlier copy is kept)") from exc
        logger.warning("%s; using the copy read before", reason)
        # Try again in a few minutes rather than on every login.
        cache.set(fresh_key, config, 300)
        return config
    cache.set(fresh_key, config, idp.get("metadata_cache_timeout", FRESH_SECONDS))
    cache.set(last_good_key, config, None)
    return config


_PLACEHOLDER_IDP = {"entity_id": "urn:placeholder", "x509cert": "", "sso_url": "urn:placeholder"}


def build_saml_config(request, app, *, need_idp: bool = True) -> dict:
    """allauth's python3-saml settings for `app`, the metadata fetched as above.

    `need_idp=False` (the SP metadata page) never touches the IdP's metadata: what the gateway
    publishes about itself does not depend on the IdP being reachable. A federation IdP (kept
    by `manage.py sync_federation`) carries its python3-saml `idp` settings as `idp_config`,
    and shares the federation's SP endpoints (one ACS and entity ID for the whole federation).
    """
    provider_config = app.settings or {}
    idp = provider_config.get("idp") or {}
    resolved = None
    if provider_config.get("idp_config"):
        resolved = provider_config["idp_config"]
    elif idp.get("metadata_url") and need_idp:
        resolved = idp_from_metadata(idp)
    if resolved is not None or idp.get("metadata_url") or not idp:
        provider_config = {**provider_config, "idp": _PLACEHOLDER_IDP}
    federation = bool(provider_config.get("federation")) or app.client_id == FEDERATION_SLUG
    slug = FEDERATION_SLUG if federation else app.client_id
    config = allauth_saml.build_saml_config(request, provider_config, slug)
    if resolved is not None:
        config["idp"] = resolved
    return config


def build_auth(request, provider) -> OneLogin_Saml2_Auth:
    config = build_saml_config(request, provider.app)
    return OneLogin_Saml2_Auth(allauth_saml.prepare_django_request(request), config)
