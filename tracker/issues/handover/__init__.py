"""Handover (交接): every open issue of a person who leaves moves to their successor at once."""
