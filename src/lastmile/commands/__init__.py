"""The verbs of the later rooms (resolve, network, screen, server...), one module per room.

Every module here is imported by ``lastmile.cli`` and registers its commands on
``lastmile.cli.app`` with the same helpers (``friendly``, ``WorkspaceOpt``, ``_emit``) the core
verbs use. A room's module parses options, calls one function of its room, and formats the
answer; the computation lives in the room.
"""
