"""The producer: an HTTP API that validates uploads and hands them to RabbitMQ."""
