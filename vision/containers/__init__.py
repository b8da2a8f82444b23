"""Shipping-container codes (ISO 6346): check digit, confusable correction, size/type, voting."""
