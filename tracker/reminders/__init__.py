"""Pieces of the reminder machinery: stage rules, the sweep, notifications and channels."""
