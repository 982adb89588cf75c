"""Outbound webhooks: recorded with the task history row, signed and sent after commit."""
