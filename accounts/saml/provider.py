"""allauth's SAML provider, with the identifiers Shibboleth and CARSI IdPs really release and
its python3-saml settings built through accounts.saml.config."""

from allauth.socialaccount.providers.saml.provider import SAMLProvider
from django.http import HttpResponseRedirect
from django.utils.translation import get_language

from core import sso_config

from .config import build_auth


def display_name(names: dict) -> str:
    """{"zh": ..., "en": ...} in the current language, else the other."""
    chinese = (get_language() or "").startswith("zh")
    order = ("zh", "en") if chinese else ("en", "zh")
    return next((names[code] for code in order if names.get(code)), "")


class NoIdentifier(Exception):
    """The response names nobody the gateway could recognise next time; the message is for IT."""


def _targeted_id(values) -> str | None:
    """eduPersonTargetedID: in SAML 2 a NameID element (python3-saml gives a dict); an old
    IdP may send the SAML 1 string form "idp!sp!value"."""
    for value in values or []:
        if isinstance(value, dict):
            value = (value.get("NameID") or {}).get("value")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


class CampusSAMLProvider(SAMLProvider):
    # URLs (and so the views) come from accounts/saml/urls.py.
    package = "accounts.saml"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A federation IdP's name in the reader's language (mdui:DisplayName).
        names = (self.app.settings or {}).get("names") or {}
        if names:
            self.name = display_name(names) or self.name

    def extract_uid(self, data):
        """pairwise-id / subject-id; else a persistent NameID; else eduPersonTargetedID.

        A transient NameID changes at every login: taken as the uid, every login would be a
        new registration. Without a lasting identifier the login is refused (NoIdentifier).
        """
        uid = self._extract(data).get("uid")
        if isinstance(uid, str) and uid.strip():
            return uid.strip()
        name_id, name_id_format = data.get_nameid(), data.get_nameid_format()
        configured = self.app.settings.get("advanced", {}).get("name_id_format")
        lasting = {sso_config.NAMEID_PERSISTENT}
        if configured and configured != sso_config.NAMEID_TRANSIENT:
            lasting.add(configured)
        if name_id and (name_id_format or configured) in lasting:
            return name_id
        attributes = data.get_attributes()
        targeted = _targeted_id(
            attributes.get(sso_config.EDU_PERSON_TARGETED_ID)
            or attributes.get("eduPersonTargetedID")
        )
        if targeted:
            return targeted
        raise NoIdentifier(
            f"SAML response has no lasting identifier: NameID format {name_id_format!r} is not "
            "persistent and no pairwise-id, subject-id or eduPersonTargetedID was released; "
            "the IdP must release a persistent NameID, eduPersonTargetedID or pairwise-id to "
            "the gateway's entity ID"
        )

    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        auth = build_auth(request, self)
        redirect = auth.login(return_to="")
        self.stash_redirect_state(
            request, process, next_url, data, state_id=auth.get_last_request_id(), **kwargs
        )
        return HttpResponseRedirect(redirect)
