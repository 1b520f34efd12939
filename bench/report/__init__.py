"""What a sweep shows: figures, tables and fits drawn from its recorded results."""
