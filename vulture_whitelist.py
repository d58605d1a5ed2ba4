"""Names vulture cannot see used: read by SQL, strawberry, orjson, the CLI's summary or only by tests."""

from contextlib import _AsyncGeneratorContextManager, _GeneratorContextManager

from starlette.requests import Request

from gateway.auth.jwks import JwksCache
from loaders.batching import DbLoader
from loaders.demo import DemoSummary
from loaders.rows import ReleaseRow, RevisionRow
from loaders.vocabulary import ContactRole, DeviceType, Urgency
from resolvers.events import ReleaseEvents
from resolvers.merkle import frontier_nodes
from schema.extension_hooks import PlannedExtensionsRunner
from schema.from_rows import derive
from schema.introspection import Introspection
from schema.pagination import Connection
from schema.parsing import OffLoopParser
from schema.releases import FirmwareRelease, FirmwareReleaseRevision
from schema.schema import FirSchema
from schema.slices import SlicedExecutor
from spreadsheets.cpl_files import read_cpl

# members of the vocabulary: matched against the SQL enums and exposed as GraphQL enum values
DeviceType.ESME, DeviceType.GSME, DeviceType.CHF, DeviceType.GPF, DeviceType.PPMID
DeviceType.HCALCS, DeviceType.IHD, DeviceType.CAD
Urgency.LOW, Urgency.MEDIUM
ContactRole.SUPPORT, ContactRole.SECURITY
Introspection.OFF  # FIR_INTROSPECTION=off
# row fields: filled from SQL, serialised into audit events
ReleaseRow.submitted_org
RevisionRow.revised_by
# fields copied by the from_row functions schema/from_rows.py generates (vulture cannot read them)
ReleaseRow.submitted_by, ReleaseRow.submitted_at, ReleaseRow.published_by
ReleaseRow.withdrawn_at, ReleaseRow.withdrawn_reason, RevisionRow.revised_at
FirmwareRelease.submitted_at, FirmwareRelease.published_by, FirmwareRelease.submitted_by
FirmwareRelease.withdrawn_at, FirmwareRelease.withdrawn_reason, FirmwareReleaseRevision.revised_at
# named in tracebacks and profiles as Type.from_row
derive.__qualname__
# the demo summary's counts, printed by `fir demo-data`
DemoSummary.submitted, DemoSummary.drafts
# a GraphQL field (strawberry type attribute)
Connection.page_info
# read by tests: the JWKS fetch counter, the subscriber count and the one-call CPL reader
JwksCache.attempts
ReleaseEvents.subscribers
read_cpl
# the right-edge subtrees an append needs: loaders/tlog.py's size_and_frontier reads them in SQL (it may not
# import resolvers), and tests hold that SQL to this definition
frontier_nodes
# strawberry's hooks, called by strawberry: the schema's runner and the runner's stage context managers
FirSchema.create_extensions_runner
PlannedExtensionsRunner.validation, PlannedExtensionsRunner.parsing, PlannedExtensionsRunner.executing
PlannedExtensionsRunner.get_extensions_results
# read by contextlib's generator context managers' exit, and by starlette's Request.is_disconnected
_GeneratorContextManager.gen, _AsyncGeneratorContextManager.gen
Request._is_disconnected
# read by graphql-core's executor when it builds each resolver's info
SlicedExecutor.async_helpers
# called by aiodataloader's DataLoader.load
DbLoader.do_resolve_reject
OffLoopParser.on_parse  # a strawberry extension hook
