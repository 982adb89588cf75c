"""API plumbing shared by every app's API: error shape, permissions, pagination, schema."""
