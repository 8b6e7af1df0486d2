"""Tables of the apps harvest (filled in by the apps issue)."""
