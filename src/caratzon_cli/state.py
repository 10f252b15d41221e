"""What every command shares, on ``ctx.obj``: the configuration and the services,
each built the first time a command asks for it (so ``--help`` and ``config show``
never touch the database)."""

from __future__ import annotations

import typer

from caratzon_adapters.bootstrap import Services, bootstrap
from caratzon_adapters.config import Config


class CliState:
    def __init__(self, *, debug: bool = False) -> None:
        self.debug = debug
        self._config: Config | None = None
        self._services: Services | None = None
        # Set once migrations have run in this process (``serve`` runs them itself).
        self.schema_ready = False

    @property
    def config_loaded(self) -> Config | None:
        """The configuration if a command already read it (for redacting errors)."""
        return self._config

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = Config.from_env()
        return self._config

    def use_config(self, config: Config) -> None:
        """Replace the configuration before any service is built."""
        if self._services is not None:
            raise RuntimeError("the services were already built with the old configuration")
        self._config = config

    @property
    def services(self) -> Services:
        """The use-case services. The embedded SQLite database is migrated on first
        use so it just works; a server database is migrated with `caratzon db upgrade`."""
        if self._services is None:
            config = self.config
            migrate = config.is_embedded_database and not self.schema_ready
            self._services = bootstrap(config, migrate=migrate)
            self.schema_ready = self.schema_ready or migrate
        return self._services

    def close(self) -> None:
        if self._services is not None:
            services, self._services = self._services, None
            services.close()


def state(ctx: typer.Context) -> CliState:
    """The shared state of this invocation (made by the root callback)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
        root.call_on_close(root.obj.close)
    return root.obj
