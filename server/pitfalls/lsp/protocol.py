"""JSON-RPC for a client that may misbehave: every request gets an answer, no mistake of the
client's becomes a pop-up.

pygls drops every message after ``shutdown`` (a request then waits forever), leaves a request
whose params do not fit their type unanswered, and turns each of those into an "Error in
server" pop-up. Here a request after ``shutdown`` (other than ``exit``) or one that is not
JSON-RPC 2.0 gets ``InvalidRequest``, one whose params do not fit gets ``InvalidParams``,
notifications are dropped, and each mistake is logged
(:meth:`pitfalls.lsp.session.PitfallsServer.client_mistake`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cattrs import ClassValidationError, Converter, transform_error
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol, default_converter

if TYPE_CHECKING:
    from pitfalls.lsp.session import PitfallsServer


class Unfit:
    """A message whose params (or result) do not fit their type, kept as it came."""

    def __init__(self, data: dict[str, Any], error: Exception) -> None:
        self.data = data
        self.error = error


class PitfallsProtocol(LanguageServerProtocol):
    _server: PitfallsServer

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            return Unfit(data, exc.__cause__ or exc)

    def handle_message(self, message: Any) -> None:
        fields = _fields(message)
        is_request = "method" in fields and "id" in fields
        if fields.get("jsonrpc") != self.VERSION:
            self._refuse(fields, JsonRpcInvalidRequest("Invalid Request: not a JSON-RPC 2.0 message"))
        elif self._shutdown and is_request and fields["method"] != types.EXIT:
            self._refuse(fields, JsonRpcInvalidRequest(f"Invalid Request: {fields['method']!r} after shutdown"))
        elif isinstance(message, Unfit):
            cause = message.error
            where = "; ".join(transform_error(cause)[:3]) if isinstance(cause, ClassValidationError) else str(cause)
            self._refuse(fields, JsonRpcInvalidParams(f"Invalid Params: {where}"))
        else:
            super().handle_message(message)  # after shutdown: drops notifications and answers

    def _refuse(self, fields: dict[str, Any], error: JsonRpcException) -> None:
        """Answer a request that cannot be served with ``error``; fail the request of ours an
        unfit answer was to; log the mistake."""
        method, msg_id = fields.get("method"), fields.get("id")
        known_id = isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)
        if "method" in fields and known_id:
            self._send_response(msg_id, error=error.to_response_error())
            what = f"request {method!r}"
        elif "method" in fields:
            what = f"notification {method!r}"
        elif known_id and (pending := self._request_futures.pop(msg_id, None)) is not None:
            pending.set_exception(error)
            what = f"answer to request {msg_id!r}"
        else:
            what = "message"
        self._server.client_mistake(f"{what}: {error.message}")


def _fields(message: Any) -> dict[str, Any]:
    """The envelope of a message: what it came as, or what pygls made of it."""
    if isinstance(message, Unfit):
        return message.data
    if isinstance(message, dict):
        return message
    return {name: getattr(message, name) for name in ("jsonrpc", "method", "id") if hasattr(message, name)}


def converter() -> Converter:
    """lsprotocol's converter, with the diagnostics pitfalls makes written out directly:
    unstructuring a long file's hundred-odd findings field by field (cattrs' generated
    hooks) cost as much as a tenth of checking an edit. Any other diagnostic (tags, related
    information, a code description) goes through lsprotocol's hook."""
    found = default_converter()
    generic = found.get_unstructure_hook(types.Diagnostic)

    def diagnostic(d: types.Diagnostic) -> dict[str, Any]:
        if d.code_description is not None or d.tags is not None or d.related_information is not None:
            return generic(d)
        start, end = d.range.start, d.range.end
        out: dict[str, Any] = {
            "range": {"start": {"line": start.line, "character": start.character}, "end": {"line": end.line, "character": end.character}},
            "message": d.message,
        }
        if d.severity is not None:
            out["severity"] = d.severity.value
        if d.code is not None:
            out["code"] = d.code
        if d.source is not None:
            out["source"] = d.source
        if d.data is not None:
            out["data"] = d.data
        return out

    found.register_unstructure_hook(types.Diagnostic, diagnostic)
    return found
