"""What every group of the gateway's REST routes holds (the feeds, the availability export,
the accounting portal and intake, GOCDB's write API, ARGO's callers): the settings, the
session factory its transactions come from, and the authenticator that turns a request's
credentials into a principal for the domain services to decide on."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from gateway.auth.authenticator import Authenticator
from gateway.config import Settings


class RestApi:
    def __init__(
        self,
        settings: Settings,
        session_factory: sessionmaker[Session],
        authenticator: Authenticator,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.authenticator = authenticator
