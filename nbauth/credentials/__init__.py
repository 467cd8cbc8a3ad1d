"""How a confidential application proves itself: secrets, certificates, assertions."""
