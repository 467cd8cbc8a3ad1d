"""Sign-in flows' moving parts: the device-code driver, which runs the pure protocol state
(``nbauth.protocol.device``) against the provider with time, waits and cancellation passed in,
and the loopback listener that receives an interactive sign-in's redirect."""
