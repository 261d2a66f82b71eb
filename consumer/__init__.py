"""The worker: takes jobs from RabbitMQ, resizes them and stores the results."""
