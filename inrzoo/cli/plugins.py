"""``inrzoo plugins``: every registered plugin and command, and any that failed to load."""

from __future__ import annotations

from collections.abc import Sequence

from inrzoo import registry


def print_plugins() -> None:
    registries = registry.all_registries()
    for kind, table in registries.items():
        entries = table.entries()
        print(f"{kind}s ({table.group}):")
        if not entries:
            print("  (none registered)")
        for info in entries:
            print(f"  {info.name:<16} {info.qualname:<55} {info.package} {info.version}")
    failures = [f for table in registries.values() for f in table.failures]
    if failures:
        print("failed to load:")
        for failure in failures:
            print(f"  {failure.kind} {failure.entry_point} from {failure.package}: {failure.error}")


def main(argv: Sequence[str]) -> int:
    print_plugins()
    return 0
