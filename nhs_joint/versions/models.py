"""No Django models: the versions' tables are written by triggers alone (see the package's docstring)."""
