"""The gateway's OpenID Connect provider: allauth's, with failure pages and logout at the IdP."""
