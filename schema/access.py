"""Who may use each field, mutation and entity, declared once: the guards and @requiresScopes derive from it."""

# Every field of every object type in the schema has an entry (building the schema fails otherwise),
# so a new field cannot ship before someone decides who sees it. PUBLIC means no check of the field's
# own: a field of a type that only guarded fields reach (an AuditEvent, a FirmwareRelease) is as
# visible as that parent allows, and release rows are filtered by resolvers.visibility wherever they
# are loaded. What each rule means is in resolvers.access; whose record a row is, in
# resolvers.visibility; how the rules are enforced, in schema.permissions.

from __future__ import annotations

from resolvers.access import FIR, OWNER, PUBLIC, READER, SECAS, Rule


def fields(rule: Rule, names: str) -> dict[str, Rule]:
    return dict.fromkeys(names.split(), rule)


_PAGE = fields(PUBLIC, "edges pageInfo nodes")
_EDGE = fields(PUBLIC, "cursor node")

FIELDS: dict[str, dict[str, Rule]] = {
    "Query": fields(PUBLIC, "device fleetStatus manufacturer manufacturers deviceModels cplEntry cplEntries")
    # the CPL's issues are as public as the CPL itself
    | fields(PUBLIC, "cplIssues cplIssue")
    # _entities checks each representation against ENTITIES; _service is the SDL, public by design
    | fields(PUBLIC, "_entities _service")
    # hashes only: a consistency proof reveals no fact
    | fields(PUBLIC, "logConsistency")
    | fields(FIR, "firmwareRelease")
    # rows filtered in the SQL by resolvers.release_search.readers_of (can_see_release's rule)
    | fields(FIR, "firmwareReleases")
    | fields(SECAS, "auditLog")
    | fields(SECAS, "unrecordedCplEntries blockedSubmissions manufacturersWithoutFirmwareContact")
    # each event filtered by who may read it (resolvers.change_feed.audience_of), in the SQL
    | fields(FIR, "changes"),
    # the resolvers then hold a publisher to its own manufacturers (resolvers.visibility.is_owner_or_secas)
    "Mutation": fields(
        OWNER, "submitFirmwareRelease withdrawFirmwareRelease amendFirmwareRelease setContacts"
    )
    | fields(SECAS, "upsertManufacturer listCplEntry removeCplEntry"),
    "Subscription": fields(FIR, "firmwareReleased changed"),
    "Manufacturer": fields(PUBLIC, "manufacturerId name deviceModels") | fields(FIR, "website contacts"),
    "Contact": fields(PUBLIC, "role name email phone"),
    "CplIssue": fields(PUBLIC, "version title issuedOn added removed"),
    "DeviceModel": fields(PUBLIC, "manufacturerId modelId name deviceType manufacturer cplEntries"),
    "CplEntry": fields(
        PUBLIC,
        "number status deviceType cplVersion manufacturerId modelId hardwareVersion firmwareVersion"
        " smetsChtsVersion gbcsVersion imageHash listedOn removedOn modelHardware model manufacturer proof",
    )
    | fields(FIR, "release"),
    "FirmwareRelease": fields(
        PUBLIC,
        "id manufacturerId modelId version hardwareVersion imageHash releaseDate status releaseNotes urgency"
        " advisories cplEntryNumber submittedAt publishedAt withdrawnAt cplEntry model manufacturer"
        # filtered to the releases the caller may see (resolvers.releases)
        " upgradableFromVersions upgradableFrom upgradesTo revisions"
        # its leaf states only what the release itself shows: published facts (resolvers.log_leaves)
        " proof",
    )
    | fields(OWNER, "publishedBy submittedBy withdrawnReason"),
    # a revision is as visible as its release; its upgrade sources are filtered as the release's are
    "FirmwareReleaseRevision": fields(
        PUBLIC, "revision releaseNotes urgency advisories upgradableFromVersions revisedAt reason"
    ),
    "DeviceFirmwareStatus": fields(PUBLIC, "identity onCpl cplEntry model manufacturer")
    | fields(FIR, "current latest isLatest upgradePath lineage contacts"),
    "DeviceIdentity": fields(PUBLIC, "manufacturerId modelId hardwareVersion firmwareVersion"),
    # counted from what the caller may see of the FIR: a publisher's cover its own manufacturers only
    "FleetStatus": fields(PUBLIC, "total distinct notOnCpl invalid problems groups")
    | fields(FIR, "upToDate outdated noUpgradePath"),
    # as visible as the record they prove; hashes and published facts only
    "LogProof": fields(PUBLIC, "leafIndex treeSize leaf inclusionPath checkpoint"),
    "LogConsistency": fields(PUBLIC, "from to path checkpoint"),
    "FleetGroup": fields(PUBLIC, "count refs status"),
    "FleetProblem": fields(PUBLIC, "index ref field message"),
    "AuditEvent": fields(PUBLIC, "id occurredAt actor organisation action entityType entityId before after"),
    # an event's release is filtered as firmwareRelease is; the CPL is public
    "ChangeEvent": fields(
        PUBLIC, "cursor kind occurredAt manufacturerId releaseId cplEntryNumber release cplEntry"
    ),
    "ChangeEventConnection": _PAGE,
    "ChangeEventEdge": _EDGE,
    # only the SECAS report reaches it
    "BlockedSubmission": fields(PUBLIC, "release reason cplEntryNumber"),
    "FirmwareReleaseConnection": _PAGE,
    "FirmwareReleaseEdge": _EDGE,
    "AuditEventConnection": _PAGE,
    "AuditEventEdge": _EDGE,
    "CplEntryConnection": _PAGE,
    "CplEntryEdge": _EDGE,
    "DeviceModelConnection": _PAGE,
    "DeviceModelEdge": _EDGE,
    "ManufacturerConnection": _PAGE,
    "ManufacturerEdge": _EDGE,
    "PageInfo": fields(PUBLIC, "hasNextPage hasPreviousPage startCursor endCursor"),
    "_Service": fields(PUBLIC, "sdl"),
}

# Who may look an entity up through _entities (its fields then apply their own rules).
ENTITIES: dict[str, Rule] = {
    # a supplier's meter by its identity: the CPL facts are public, its FIR fields apply their own rules
    "DeviceFirmwareStatus": PUBLIC,
    "Manufacturer": PUBLIC,
    "DeviceModel": PUBLIC,
    "CplEntry": PUBLIC,
    "FirmwareRelease": FIR,
}

# HTTP routes outside GraphQL that serve FIR records (gateway/exports.py, gateway/fleet_checks.py);
# a fleet check reports on every manufacturer's records at once, as the spreadsheet does. The
# transparency log's routes (gateway/log_routes.py) serve hashes and signed checkpoints to anyone,
# but its entry bundles are the logged facts themselves (every manufacturer's contacts, published
# releases and their upgrade edges), which GraphQL shows only to fir:read
ROUTES: dict[str, Rule] = {
    "/exports/fir": READER,
    "/fleet-checks": READER,
    "/log": PUBLIC,
    "/log/tile/entries": READER,
}


def rule_of(type_name: str, field_name: str) -> Rule | None:
    return FIELDS.get(type_name, {}).get(field_name)
