"""Helpers the tests share: fake results, an offline W&B reader."""
