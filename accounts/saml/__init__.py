"""The gateway's SAML provider: allauth's, with the failure pages, identifiers and keys of a
campus federation (see accounts/provider.py for how it replaces allauth's)."""
