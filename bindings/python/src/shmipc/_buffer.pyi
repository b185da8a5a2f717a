# Types of the C extension shmipc._buffer (_buffer.c).
from typing import Any

class Exporter:
    nbytes: int
    readonly: bool
    exports: int
    released: bool
    address: int
    _owner: Any
    def __new__(cls, owner: Any, memory: Any, readonly: bool, /) -> Any: ...
    def release(self) -> None: ...
    def __len__(self) -> int: ...
    def __buffer__(self, flags: int, /) -> memoryview: ...
