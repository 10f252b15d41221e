"""Use cases: each takes an actor and plain input, checks the access policy,
does its work in one unit of work and writes the audit trail in the same
transaction."""
