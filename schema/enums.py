"""Enumerations of the FIR graph API: loaders.vocabulary's classes, registered with strawberry."""

from __future__ import annotations

import strawberry

from loaders.vocabulary import (
    BlockedReason,
    ChangeKind,
    ContactRole,
    CplStatus,
    DeviceType,
    ReleaseStatus,
    Urgency,
)

# The vocabulary is the one source: these calls only attach the GraphQL definition to its classes.
strawberry.enum(DeviceType, description="Device types as the CPL names them.")
strawberry.enum(CplStatus)
strawberry.enum(ReleaseStatus)
strawberry.enum(Urgency)
strawberry.enum(ContactRole)
strawberry.enum(BlockedReason, description="Why a submission cannot publish.")
strawberry.enum(ChangeKind, description="What an event of the change feed says happened.")

__all__ = [
    "BlockedReason",
    "ChangeKind",
    "ContactRole",
    "CplStatus",
    "DeviceType",
    "ReleaseStatus",
    "Urgency",
]
