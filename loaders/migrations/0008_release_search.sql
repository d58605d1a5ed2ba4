-- Release search (firmwareReleases): every filter has an index to start from, newest first by id.
create index firmware_releases_manufacturer on firmware_releases (manufacturer_id, id);
create index firmware_releases_advisories on firmware_releases using gin (advisories);
create index firmware_releases_published on firmware_releases (published_at) where published_at is not null;
create index firmware_releases_urgency on firmware_releases (urgency, id);
