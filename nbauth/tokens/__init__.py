"""Tokens over time: choosing among cached ones, one refresh however many ask, background renewal."""
