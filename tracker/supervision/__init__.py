"""Supervision (督办): urging and orders, the chase by hand. It may use the ledger and owners;
neither imports it."""
