"""An import-linter contract: faces call services, they never query the database themselves.

The `forbidden` contracts can only forbid whole packages, and a face legitimately imports
``sqlalchemy.orm.Session`` (the request's session it hands to a service). This contract reads
each face module and refuses what makes a query: the SQL expression builders imported from
SQLAlchemy (``select``, ``update``, ``text``, ``func``, …) and calls on a session that read or
write rows (``session.execute``, ``.scalars``, ``.get``, ``.add``, …).
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output
from importlinter.domain import helpers

SQL_BUILDERS = frozenset(
    {
        "select",
        "insert",
        "update",
        "delete",
        "text",
        "func",
        "and_",
        "or_",
        "not_",
        "exists",
        "case",
        "literal",
        "literal_column",
        "union",
        "union_all",
        "tuple_",
        "null",
        "true",
        "false",
    }
)
SESSION_QUERIES = frozenset(
    {"execute", "scalar", "scalars", "get", "query", "add", "add_all", "delete", "merge", "flush"}
)


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    what: str


def violations_in(module: str, source: str) -> list[Violation]:
    """Every query made in ``source`` (the text of ``module``)."""
    found: list[Violation] = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.ImportFrom)
            and (node.module or "").split(".")[0] == "sqlalchemy"
            and (names := sorted(a.name for a in node.names if a.name in SQL_BUILDERS))
        ):
            found.append(
                Violation(module, node.lineno, f"imports {', '.join(names)} from {node.module}")
            )
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_QUERIES
            and _is_session(node.func.value)
        ):
            found.append(Violation(module, node.lineno, f"calls session.{node.func.attr}()"))
    return sorted(found, key=lambda v: v.line)


def _is_session(node: ast.expr) -> bool:
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return isinstance(name, str) and name.endswith("session")


class FacesWithoutSql(Contract):
    """``face_modules``: module expressions (wildcards allowed), checked with their
    submodules."""

    type_name = "faces_without_sql"
    face_modules = fields.ListField(subfield=fields.ModuleExpressionField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        modules = helpers.module_expressions_to_modules(
            graph,
            self.face_modules,  # type: ignore[arg-type]
            as_packages=True,
        )
        names = sorted(
            {
                name
                for module in modules
                for name in {module.name} | graph.find_descendants(module.name)
            }
        )
        found: list[Violation] = []
        for name in names:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
                continue
            with open(spec.origin, encoding="utf-8") as file:
                found.extend(violations_in(name, file.read()))
        return ContractCheck(kept=not found, metadata={"violations": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            output.print_error(
                f"{violation.module}:{violation.line} {violation.what}: "
                "move the query into the domain's service or repository",
                bold=False,
            )
        output.new_line()
