"""The app's routes as FastAPI itself sees them, included routers unfolded.

FastAPI 0.16x keeps each included router behind one lazy entry of ``app.routes``;
`fastapi.routing.iter_route_contexts` unfolds them into the routes that answer requests (what
the OpenAPI document is built from). Tests that must cover every endpoint walk this.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    route: typing.Any  # a fastapi.routing.RouteContext
    api: bool  # an APIRoute (with a dependant), not a plain Starlette route

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def operations(app: FastAPI) -> Iterator[Operation]:
    """Every (method, path) the app answers; HEAD only where it is declared on its own."""
    for context in iter_route_contexts(app.routes):
        methods = context.methods or set()
        path = context.path
        if path is None:
            continue
        for method in sorted(methods):
            if method == "HEAD" and "GET" in methods:
                continue
            yield Operation(method, path, context, isinstance(context.original_route, APIRoute))


def body_models(operation: Operation) -> Iterator[tuple[str, type[BaseModel]]]:
    """(parameter name, model) of every pydantic model the operation's body holds, nested
    models included."""
    if not operation.api or operation.route.dependant is None:
        return
    stack = [operation.route.dependant]
    params = []
    while stack:
        dependant = stack.pop()
        params.extend(dependant.body_params)
        stack.extend(dependant.dependencies)
    seen: set[type[BaseModel]] = set()
    for param in params:
        todo = [param.field_info.annotation]
        while todo:
            annotation = todo.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                if annotation in seen:
                    continue
                seen.add(annotation)
                yield param.name, annotation
                todo.extend(f.annotation for f in annotation.model_fields.values())
            todo.extend(typing.get_args(annotation))
