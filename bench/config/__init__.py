"""Configuration: composing Hydra configs, checking them, and the reference page."""
