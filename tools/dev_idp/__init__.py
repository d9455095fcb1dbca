"""Development identity providers for trying campus single sign-on locally.

* ``python -m tools.dev_idp`` -- an OpenID Connect provider: django-allauth's
  (``allauth.idp.oidc``) served by a small Django project of its own (``settings.py``,
  ``urls.py``, a sign-in page that lists demo identities instead of asking for a password,
  ``adapter.py`` releasing their campus claims). ``make run`` starts it; the tests run it as a
  subprocess (tests/dev_oidc_idp.py).
* :mod:`tools.dev_idp.saml` -- a SAML 2.0 IdP helper for tests
  (``TestSamlIdP``), which builds signed responses without any network.

Both are deliberately insecure conveniences (anyone can sign in as anyone) and
must never be wired into production settings.
"""
