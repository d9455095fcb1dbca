"""The demo campus identities the development IdP offers, with the claims it releases.

The gateway reads these claims by the names in `accounts.sso.DEFAULT_OIDC_CLAIMS`: `name`,
`email`, `student_id` (the campus ID), `department` or `schac_home_organization` (the
institution). The subject identifier (`sub`) is the stable key the gateway links an account by;
it is also the IdP's username of the identity.
"""

from dataclasses import dataclass, field
from typing import Any

# Claims released with the `email` scope; all others come with `profile`.
EMAIL_CLAIMS = ("email", "email_verified")


@dataclass(frozen=True)
class Identity:
    sub: str
    label: str
    claims: dict[str, Any] = field(default_factory=dict)

    def claims_for(self, scopes) -> dict[str, Any]:
        """`sub` and the claims the granted scopes allow."""
        released = {"sub": self.sub}
        for name, value in self.claims.items():
            scope = "email" if name in EMAIL_CLAIMS else "profile"
            if scope in scopes:
                released[name] = value
        return released


DEMO_IDENTITIES: tuple[Identity, ...] = (
    # CARSI (the Chinese research & education federation) often releases nothing but an opaque,
    # persistent identifier and the home organisation: no name, no e-mail.
    Identity(
        sub="8d4f2a61c0e94b7ab3d9e5f1a7c2e6d0",
        label="CARSI federated user (opaque identifier only)",
        claims={"schac_home_organization": "example.edu.cn"},
    ),
    # A campus that releases a full profile, the campus ID and the department included.
    Identity(
        sub="dev-student-li-wen",
        label="Li Wen, history student (full profile)",
        claims={
            "name": "Li Wen",
            "family_name": "Li",
            "given_name": "Wen",
            "email": "li.wen@example.edu.cn",
            "email_verified": True,
            "student_id": "2023010123",
            "department": "School of History",
        },
    ),
    # Shares its (verified) e-mail address with the gateway's demo reader: single sign-on must
    # never take over an existing account by e-mail.
    Identity(
        sub="dev-demo-reader-lookalike",
        label="Campus user with the demo reader's e-mail address",
        claims={
            "name": "Demo Reader (campus account)",
            "email": "demo-reader@example.org",
            "email_verified": True,
        },
    ),
)

BY_SUB = {identity.sub: identity for identity in DEMO_IDENTITIES}
