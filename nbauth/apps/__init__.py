"""MSAL's application classes: MSAL's arguments in, MSAL's result dicts out."""
