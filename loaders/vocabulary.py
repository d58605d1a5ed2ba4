"""The domain's words, written once: statuses, device types, urgencies, contact roles, audit actions."""

from __future__ import annotations

from enum import StrEnum

# Every layer may import this module (it sits in the lowest one). The SQL enums of
# loaders/migrations and the GraphQL enums of schema/enums.py are checked against these classes
# by tests/loaders/test_vocabulary.py; a status written as a bare string elsewhere is a defect.


class DeviceType(StrEnum):
    """Device types as the CPL names them (SQL enum `device_type`)."""

    ESME = "ESME"
    GSME = "GSME"
    CHF = "CHF"
    GPF = "GPF"
    PPMID = "PPMID"
    HCALCS = "HCALCS"
    IHD = "IHD"
    CAD = "CAD"


class CplStatus(StrEnum):
    """A CPL entry's status (SQL enum `cpl_status`)."""

    CURRENT = "CURRENT"
    REMOVED = "REMOVED"


class ReleaseStatus(StrEnum):
    """A FIR record's status (SQL enum `release_status`)."""

    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    PUBLISHED = "PUBLISHED"
    WITHDRAWN = "WITHDRAWN"


class Urgency(StrEnum):
    """How soon a release should be installed (SQL enum `urgency`)."""

    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class ContactRole(StrEnum):
    """What a manufacturer's contact is for (SQL enum `contact_role`)."""

    FIRMWARE = "FIRMWARE"
    SUPPORT = "SUPPORT"
    SECURITY = "SECURITY"


class EntityType(StrEnum):
    """What an audit event or a recorded change is about."""

    MANUFACTURER = "Manufacturer"
    DEVICE_MODEL = "DeviceModel"
    CPL_ENTRY = "CplEntry"
    FIRMWARE_RELEASE = "FirmwareRelease"
    CPL_DOCUMENT = "CplDocument"
    TRUSTED_DOCUMENTS = "TrustedDocuments"
    TRANSPARENCY_LOG = "TransparencyLog"
    CHANGE_FEED = "ChangeFeed"


class AuditAction(StrEnum):
    """The kind of a recorded change: the audit log's `action`, and what a change consumer keys on."""

    MANUFACTURER_UPSERT = "manufacturer.upsert"
    MANUFACTURER_CREATE = "manufacturer.create"
    DEVICE_MODEL_CREATE = "deviceModel.create"
    CONTACTS_SET = "contacts.set"
    CPL_ENTRY_LIST = "cplEntry.list"
    CPL_ENTRY_UPDATE = "cplEntry.update"
    CPL_ENTRY_REMOVE = "cplEntry.remove"
    CPL_IMPORT = "cpl.import"
    RELEASE_SUBMIT = "firmwareRelease.submit"
    RELEASE_PUBLISH = "firmwareRelease.publish"
    RELEASE_WITHDRAW = "firmwareRelease.withdraw"
    RELEASE_AMEND = "firmwareRelease.amend"
    RELEASE_CONFLICT = "firmwareRelease.conflict"
    TRUSTED_DOCUMENTS_REGISTER = "trustedDocuments.register"
    TRUSTED_DOCUMENTS_UNREGISTER = "trustedDocuments.unregister"
    LOG_BACKFILL = "log.backfill"
    CHANGE_FEED_PRUNE = "changeFeed.prune"


class ChangeKind(StrEnum):
    """What an event of the change feed says happened."""

    RELEASE_PUBLISHED = "RELEASE_PUBLISHED"
    RELEASE_WITHDRAWN = "RELEASE_WITHDRAWN"
    RELEASE_AMENDED = "RELEASE_AMENDED"
    CPL_ENTRY_LISTED = "CPL_ENTRY_LISTED"
    CPL_ENTRY_REMOVED = "CPL_ENTRY_REMOVED"
    CPL_ENTRY_UPDATED = "CPL_ENTRY_UPDATED"
    CONTACTS_CHANGED = "CONTACTS_CHANGED"


class BlockedReason(StrEnum):
    """Why a SUBMITTED release cannot publish (SECAS's report)."""

    NO_MATCHING_ENTRY = "NO_MATCHING_ENTRY"
    HASH_DIFFERS = "HASH_DIFFERS"
    ENTRY_REMOVED = "ENTRY_REMOVED"


# A release readers outside its manufacturer may see: published, or published once and then withdrawn.
# A submission withdrawn before it was published never was public: its notes and advisories (an
# embargoed CVE, say) stay its manufacturer's. The same rule in SQL, for a release aliased `r`:
PUBLIC_RELEASE_SQL = (
    f"(r.status = '{ReleaseStatus.PUBLISHED}'"
    f" or (r.status = '{ReleaseStatus.WITHDRAWN}' and r.published_at is not null))"
)


def is_public_release(status: str, published_at: object | None) -> bool:
    return status == ReleaseStatus.PUBLISHED or (
        status == ReleaseStatus.WITHDRAWN and published_at is not None
    )
