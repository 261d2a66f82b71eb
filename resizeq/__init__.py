"""What the API and the consumer share: settings, the message format, storage and job status."""
