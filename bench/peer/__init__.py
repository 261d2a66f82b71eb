"""A seed-style peer of resizeq, run beside it so every ratio compares like with like.

It does what a first version of the service does: the API opens a broker connection for
every upload and publishes without confirms; the consumer takes messages with auto-ack on
one thread and resizes with a plain open, convert, resize, save. Where a choice was open,
the peer takes the faster one (a transient, non-durable queue), so a ratio against it is
not flattered by a slow peer.
"""
