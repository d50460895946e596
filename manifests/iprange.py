"""An inclusive range of IP addresses, written `A-B` in the answers file."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


@dataclass(frozen=True)
class IpRange:
    """`start-end`, both included; start <= end is checked by the rules, not the parser."""

    start: Address
    end: Address

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, IPv4Address | IPv6Address):
            return False
        return address.version == self.start.version and int(self.start) <= int(address) <= int(
            self.end
        )

    @property
    def ordered(self) -> bool:
        return int(self.start) <= int(self.end)

    def size(self) -> int:
        return int(self.end) - int(self.start) + 1

    def within(self, network: Network) -> bool:
        return self.start in network and self.end in network

    def overlaps(self, other: IpRange) -> bool:
        if self.start.version != other.start.version:
            return False
        return int(self.start) <= int(other.end) and int(other.start) <= int(self.end)

    @classmethod
    def parse(cls, text: str) -> IpRange:
        parts = text.split("-")
        if len(parts) != 2:
            raise ValueError(
                f"{text!r} is not a range; write it as START-END, e.g. 10.0.0.10-10.0.0.20"
            )
        try:
            start, end = ip_address(parts[0].strip()), ip_address(parts[1].strip())
        except ValueError as e:
            raise ValueError(f"{text!r} is not a range of IP addresses: {e}") from None
        if start.version != end.version:
            raise ValueError(f"{text!r} mixes IPv4 and IPv6; both ends must be of one family")
        return cls(start, end)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> IpRange:
            if isinstance(value, IpRange):
                return value
            if not isinstance(value, str):
                raise PydanticCustomError(
                    "ip_range", "must be a range written START-END, e.g. 10.0.0.10-10.0.0.20"
                )
            try:
                return cls.parse(value)
            except ValueError as e:
                raise PydanticCustomError("ip_range", str(e)) from None

        return core_schema.no_info_plain_validator_function(
            validate, serialization=core_schema.to_string_ser_schema()
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": r"^[0-9A-Fa-f.:]+-[0-9A-Fa-f.:]+$",
            "description": "inclusive address range START-END",
            "examples": ["10.20.0.200-10.20.0.220"],
        }
