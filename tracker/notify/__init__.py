"""Reminder policy, the reminder pass, email, the in-app inbox and the scheduler."""
