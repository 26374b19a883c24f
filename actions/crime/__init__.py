"""Guided crime reporting: pure logic (safety, classification, validation, extraction)."""
