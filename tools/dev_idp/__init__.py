"""Development identity providers for trying campus single sign-on locally.

* :mod:`tools.dev_idp.server` -- a small OpenID Connect provider (``DevIdP``),
  runnable with ``python -m tools.dev_idp.server``.
* :mod:`tools.dev_idp.saml` -- a SAML 2.0 IdP helper for tests
  (``TestSamlIdP``), which builds signed responses without any network.

Both are deliberately insecure conveniences (anyone can sign in as anyone) and
must never be wired into production settings.
"""
