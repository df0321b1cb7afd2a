"""An example Memoria plugin: one animator backend, `example-breathing`.

Memoria finds this module through the `memoria.plugins` entry point in pyproject.toml and calls its
hooks; the class is imported only when the hook runs, so importing the plugin stays cheap.
"""

from __future__ import annotations

from server.backends import AnimatorBackend
from server.hookspecs import hookimpl


@hookimpl
def register_animator_backends() -> list[type[AnimatorBackend]]:
    from memoria_example_animator.animator import BreathingAnimator

    return [BreathingAnimator]
