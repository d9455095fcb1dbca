"""What a campus login leaves in the reader's session, for logging out of the IdP later.

The providers write it when a login succeeds (`accounts/oidc/provider.py`,
`accounts/saml/views.py`); `accounts/logout.py` reads it when the reader logs out. Kept apart
from both so that neither imports the other.
"""

# In the logged-in session: how to end the campus login later.
SSO_SESSION_KEY = "sso_logout"
# In the session after logging out: which campus login is being (or could not be) ended.
LOGGED_OUT_KEY = "sso_logged_out"


def remember_oidc(request, app, id_token: str | None) -> None:
    if id_token:
        request.session[SSO_SESSION_KEY] = {
            "protocol": "oidc",
            "provider_id": app.provider_id,
            "name": app.name,
            "id_token": id_token,
        }


def remember_saml(request, provider, auth) -> None:
    request.session[SSO_SESSION_KEY] = {
        "protocol": "saml",
        "provider_id": provider.sub_id,
        "name": provider.name,
        "names": (provider.app.settings or {}).get("names") or {},
        "name_id": auth.get_nameid(),
        "name_id_format": auth.get_nameid_format(),
        "nq": auth.get_nameid_nq(),
        "spnq": auth.get_nameid_spnq(),
        "session_index": auth.get_session_index(),
    }
