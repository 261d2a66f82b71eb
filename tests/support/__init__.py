"""Helpers the tests share: a real RabbitMQ vhost, test images and the app processes."""
