"""Facts of the Twenty image both layers rely on (see shared notes on Twenty's runtime)."""

SERVER_PORT = 3000
"""`NODE_PORT`: where the server listens inside its pod (the load balancer's target port)."""
HEALTH_PATH = "/healthz"
"""Answers 200 once the server can serve (the target group's health check, the probes)."""
