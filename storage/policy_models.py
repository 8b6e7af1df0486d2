"""Tables of the policy harvest (filled in by the policy issue)."""
