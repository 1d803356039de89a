"""The public edge (Q5 security, Q9 microservices): auth, authorisation, edge hardening, routing, resilience.

``create_app(settings)`` builds the FastAPI app; ``GatewaySettings`` reads the environment.
"""

from gateway.service import MissingSecretsError, create_app
from gateway.settings import GatewaySettings

__all__ = ["GatewaySettings", "MissingSecretsError", "create_app"]
