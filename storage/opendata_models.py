"""Tables of the opendata harvest (filled in by the opendata issue)."""
