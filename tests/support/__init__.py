"""What several test folders share: one test password, one fixed clock reading, the signing key
and the local JWKS server the JWKS-client and integration tests verify against."""
