"""Webhooks: subscriptions of other systems to the ledger's events, the outbox written in the
transaction of each change, and the signed delivery sweep (SPEC §6)."""
