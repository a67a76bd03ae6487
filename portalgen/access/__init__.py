"""Who may open which portal: the access registry (and, from the gate's issue, tokens)."""
