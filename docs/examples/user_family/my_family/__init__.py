"""An example of a user's own model family for scalebench (see README, "Your own configs")."""
