"""Actions: one verb per module; they look things up, call a converter, carry out the plan."""
