"""Public disclosure (政务公开): a public campaign's progress and closed findings, without login."""
