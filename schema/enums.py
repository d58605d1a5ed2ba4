"""Enumerations of the FIR graph API."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Device types as the CPL names them.")
class DeviceType(Enum):
    ESME = "ESME"
    GSME = "GSME"
    CHF = "CHF"
    GPF = "GPF"
    PPMID = "PPMID"
    HCALCS = "HCALCS"
    IHD = "IHD"
    CAD = "CAD"


@strawberry.enum
class CplStatus(Enum):
    CURRENT = "CURRENT"
    REMOVED = "REMOVED"


@strawberry.enum
class ReleaseStatus(Enum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    PUBLISHED = "PUBLISHED"
    WITHDRAWN = "WITHDRAWN"


@strawberry.enum
class Urgency(Enum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


@strawberry.enum
class ContactRole(Enum):
    FIRMWARE = "FIRMWARE"
    SUPPORT = "SUPPORT"
    SECURITY = "SECURITY"
