"""The fault suite: what a real community network throws at the application (never imported
by the application itself)."""
