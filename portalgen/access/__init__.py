"""Who may open which portal: the access registry, signed tokens, access codes, secrets."""
