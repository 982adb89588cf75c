"""Every write to the ledger. The API, admin, commands and Celery tasks all call these."""
