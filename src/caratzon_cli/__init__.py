"""The ``caratzon`` command line: serve the portal, migrate the database, manage
accounts, seed demo data, verify the audit trail and show the configuration."""
