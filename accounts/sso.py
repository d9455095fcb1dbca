"""What the gateway takes from a campus login: the registration form's initial values, the
affiliation staff see, an opaque username. How the providers are configured is
`core/sso_config.py`."""

import hashlib

from core.sso_config import DEFAULT_OIDC_CLAIMS, DEFAULT_SAML_ATTRIBUTES


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
    """What the identity provider released, as initial values of our registration form, and
    the affiliation (student, faculty...) the ILL office sees when confirming."""
    claims_map = _provider_claims_map(sociallogin)
    data = _claims_data(sociallogin)
    profile = claims_to_profile(claims_map, data)
    affiliation = affiliation_from(claims_map.get("affiliation", []), data)
    if affiliation:
        profile["affiliation"] = affiliation
    else:
        profile.pop("affiliation", None)
    if is_saml(sociallogin) and not profile.get("institution"):
        # A federation IdP's display name is its institution's name.
        profile["institution"] = sociallogin.provider.name
    return profile


def affiliation_from(names: list[str], data: dict) -> str:
    """All values of the first affiliation attribute released, without their scope:
    ["student@example.edu.cn", "member@example.edu.cn"] -> "student, member"."""
    for name in names:
        values = data.get(name)
        if isinstance(values, str):
            values = [values]
        roles = []
        for value in values or []:
            if isinstance(value, str) and value.strip():
                role = value.strip().split("@", 1)[0]
                if role not in roles:
                    roles.append(role)
        if roles:
            return ", ".join(roles)[:100]
    return ""


def username_for(sociallogin) -> str:
    """A stable, opaque username for a campus identity (never shown, never typed)."""
    account = sociallogin.account
    provider_key = sociallogin.provider.app.provider_id or sociallogin.provider.app.client_id
    digest = hashlib.sha256(f"{account.provider}:{provider_key}:{account.uid}".encode()).hexdigest()
    return f"sso-{digest[:24]}"
