"""The ratchet tree (RFC 9420 §4, §7) and its array-index math (Appendix C)."""
