"""Tables of the mailbox harvest (filled in by the mailbox issue)."""
