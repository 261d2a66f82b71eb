"""The commands the end-to-end tests run; the chart's containers must run the same ones."""

API_COMMAND = ["uvicorn", "api.main:app"]
CONSUMER_COMMAND = ["python", "-m", "consumer"]
API_PORT = 8000
CONSUMER_METRICS_PORT = 9100
