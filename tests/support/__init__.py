"""Test helpers that are not tests: scripted HTTP fakes."""
