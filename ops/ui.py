"""Rich output shared by the ops commands (tables of checks, step progress, errors)."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ops.checks import Check

# CI logs are not terminals: give tables room instead of rich's 80-column default.
console = Console(highlight=False, emoji=False, width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, highlight=False, emoji=False)


def step(message: str) -> None:
    console.print(f"[bold cyan]→[/] {escape(message)}", soft_wrap=True)


def ok(message: str) -> None:
    console.print(f"[green]✓[/] {escape(message)}", soft_wrap=True)


def fail(message: str) -> None:
    console.print(f"[red]✗[/] {escape(message)}", soft_wrap=True)


def error(message: str) -> None:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def plain(message: str) -> None:
    console.print(escape(message), soft_wrap=True)


def checks_table(title: str, checks: Iterable[Check]) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for check in checks:
        result = "[green]PASS[/]" if check.ok else "[bold red]FAIL[/]"
        table.add_row(escape(check.name), result, escape(check.detail))
    return table
