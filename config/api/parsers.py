"""Request body parsing that cannot be turned into a 500.

Python's json module recurses once per nesting level: a body of ten thousand ``[`` raises
RecursionError, which DRF does not catch. Bodies nested deeper than any of our payloads are
refused as a malformed request before decoding, with a Chinese reason.
"""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Our deepest request body is an object holding a list of objects: 3 levels. 32 leaves room
# for any client's wrapping without letting the decoder recurse far.
MAX_JSON_DEPTH = 32


def json_depth_exceeds(data: bytes, limit: int) -> bool:
    """Whether brackets outside strings nest deeper than ``limit`` (one linear pass)."""
    depth, in_string, escaped = 0, False, False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = stream.read() if stream is not None else b""
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(f"请求内容嵌套层级过深（超过{MAX_JSON_DEPTH}层）", code="too_deep")
        try:
            return super().parse(_Replay(data), media_type, parser_context)
        except RecursionError as exc:  # belt and braces: never a 500
            raise ParseError("请求内容嵌套层级过深", code="too_deep") from exc


class _Replay:
    """The body already read, handed to JSONParser as a stream again."""

    def __init__(self, data: bytes):
        self._data = data

    def read(self, *args) -> bytes:
        data, self._data = self._data, b""
        return data
