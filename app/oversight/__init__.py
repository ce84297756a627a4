"""Enterprise compliance and the regulators' regional oversight dashboard (issue 10)."""
