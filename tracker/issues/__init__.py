"""Campaigns, categories, ledger items, evidence, history, extensions and reports."""
